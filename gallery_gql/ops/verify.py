"""Verify that the junction and tag_counts agree with the tag arrays; optionally repair.

The scan reads both sources in id ranges inside one read-only REPEATABLE READ
transaction, so counts summed over many batches compare with `tag_counts` as of one
snapshot even while writes continue. Ranges cover every id (from the smallest int4 up,
past the highest item id in steps over the junction), so junction rows without an item
are found wherever they sit. `fix` repairs each batch as it is scanned, on other
connections, through the write path's order (items locked in id order, junction from the
array, counts by delta), recounts the `tag_counts` rows that disagreed, then scans again.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.writes import link_repair
from gallery_gql.ops.backfill import Limits, engine_for, in_transaction, set_limits
from gallery_gql.ops.progress import ProgressCallback

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
FIX_CHUNK = 1000  # items per repair transaction
TAIL_ROWS_PER_ITEM = 100  # junction rows per scanned item, for ranges past the last item


class Kind(StrEnum):
    MISSING = "missing"  # a tag in the array without its junction row
    EXTRA = "extra"  # a junction row of an existing item whose array lacks the tag
    STALE = "stale"  # a junction row whose created_at differs from the item's
    ORPHAN = "orphan"  # a junction row whose item does not exist
    COUNT = "count"  # a tag_counts row that disagrees with the junction


@dataclass(frozen=True)
class Problem:
    kind: Kind
    source: int
    item_id: int | None
    detail: str

    def __str__(self) -> str:
        where = _source_name(self.source)
        if self.item_id is not None:
            where += f":{self.item_id}"
        return f"{self.kind.value:<8}{where:<18}{self.detail}"


@dataclass
class Findings:
    """One scan: rows per problem kind, affected items per kind, and the first examples."""

    rows: Counter[Kind] = field(default_factory=Counter)
    items: Counter[Kind] = field(default_factory=Counter)
    examples: list[Problem] = field(default_factory=list)
    items_scanned: int = 0
    links_scanned: int = 0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not any(self.rows.values())

    def note(self, problem: Problem, rows: int, limit: int) -> None:
        self.rows[problem.kind] += rows
        self.items[problem.kind] += 1
        if len(self.examples) < limit:
            self.examples.append(problem)


@dataclass
class Repairs:
    items: int = 0  # items whose links were rewritten from the array
    links_written: int = 0
    orphans_deleted: int = 0
    counts_recomputed: int = 0


@dataclass
class VerifyReport:
    found: Findings
    repairs: Repairs | None = None  # with fix
    remaining: Findings | None = None  # with fix: the scan after the repairs

    @property
    def clean(self) -> bool:
        return (self.remaining or self.found).clean


def _source_name(source: int) -> str:
    return Source(source).name.lower() if source in (0, 1) else f"source{source}"


# -- statements ---------------------------------------------------------------------------

_ITEM_BOUND = """
SELECT count(*) AS n, max(id) AS hi
FROM (SELECT id FROM {table} WHERE id >= :lo ORDER BY id LIMIT :n) AS s
"""
_TAIL_BOUND = text(
    """SELECT item_id FROM content_tags
    WHERE source = CAST(:source AS smallint) AND item_id >= :lo
    ORDER BY item_id OFFSET :n LIMIT 1"""
)
# Per item of the range with any disagreement: its links missing, unwanted (extra, or
# orphan when the item does not exist) and stale, with a few tag keys of each.
_PROBLEMS = """
WITH batch AS (
    SELECT id, created_at, tags FROM {table} WHERE id BETWEEN :lo AND :hi
), wanted AS (
    SELECT b.id AS item_id, t.tag_key, b.created_at
    FROM batch b
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(b.tags) AS x) AS u(tag_id)
    JOIN tags t ON t.id = u.tag_id
), actual AS (
    SELECT item_id, tag_key, created_at FROM content_tags
    WHERE source = CAST(:source AS smallint) AND item_id BETWEEN :lo AND :hi
), diff AS (
    SELECT coalesce(w.item_id, a.item_id) AS item_id,
           coalesce(w.tag_key, a.tag_key) AS tag_key,
           a.item_id IS NULL AS missing,
           w.item_id IS NULL AS unwanted,
           w.created_at IS DISTINCT FROM a.created_at AS stale
    FROM wanted w FULL JOIN actual a ON a.item_id = w.item_id AND a.tag_key = w.tag_key
)
SELECT d.item_id, b.id IS NOT NULL AS present,
       count(*) FILTER (WHERE d.missing) AS missing,
       count(*) FILTER (WHERE d.unwanted) AS unwanted,
       count(*) FILTER (WHERE d.stale AND NOT d.missing AND NOT d.unwanted) AS stale,
       (array_agg(d.tag_key ORDER BY d.tag_key) FILTER (WHERE d.missing))[1:5] AS missing_tags,
       (array_agg(d.tag_key ORDER BY d.tag_key) FILTER (WHERE d.unwanted))[1:5] AS unwanted_tags
FROM diff d LEFT JOIN batch b ON b.id = d.item_id
WHERE d.missing OR d.unwanted OR d.stale
GROUP BY d.item_id, b.id
ORDER BY d.item_id
"""
_JUNCTION_COUNTS = """
SELECT ct.tag_key, count(*) AS items, count(*) FILTER (WHERE i.is_private) AS private_items
FROM content_tags ct LEFT JOIN {table} i ON i.id = ct.item_id AND i.id BETWEEN :lo AND :hi
WHERE ct.source = CAST(:source AS smallint) AND ct.item_id BETWEEN :lo AND :hi
GROUP BY ct.tag_key
"""
_BY_SOURCE = {
    name: {s: text(sql.format(table=t.name)) for s, t in CONTENT_TABLES.items()}
    for name, sql in (
        ("bound", _ITEM_BOUND),
        ("problems", _PROBLEMS),
        ("counts", _JUNCTION_COUNTS),
    )
}
_ITEM_TOTAL = {s: text(f"SELECT count(*) FROM {t.name}") for s, t in CONTENT_TABLES.items()}
_STORED_COUNTS = text(
    "SELECT tag_key, source, items, private_items FROM tag_counts WHERE source IN (0, 1)"
)
# ix_content_tags_item leads with source, so these are index range scans.
_FOREIGN_SOURCE = "FROM content_tags WHERE source < 0 OR source > 1"
_FOREIGN_COUNT = text(f"SELECT count(*) {_FOREIGN_SOURCE}")
_FOREIGN_EXAMPLES = text(f"SELECT source, item_id, tag_key {_FOREIGN_SOURCE} LIMIT :n")
_FOREIGN_DELETE = text(f"DELETE {_FOREIGN_SOURCE}")


# -- one scan -----------------------------------------------------------------------------

CountKey = tuple[int, Source]


@dataclass(frozen=True)
class _Options:
    batch_size: int
    show: int  # examples kept
    limits: Limits
    progress: ProgressCallback | None
    stage_prefix: str = ""


@dataclass
class _Scan:
    conn: AsyncConnection  # inside the snapshot transaction
    engine: AsyncEngine  # for repairs, on other connections
    options: _Options
    repairs: Repairs | None  # set: repair what is found
    findings: Findings = field(default_factory=Findings)
    junction_counts: dict[CountKey, list[int]] = field(default_factory=dict)

    async def run(self) -> Findings:
        started = time.perf_counter()
        for source in sorted(CONTENT_TABLES):
            await self._source(Source(source))
        await self._foreign_sources()
        await self._counts()
        self.findings.seconds = time.perf_counter() - started
        return self.findings

    async def _source(self, source: Source) -> None:
        total = int(await self.conn.scalar(_ITEM_TOTAL[source]) or 0)
        stage = f"{self.options.stage_prefix}{source.name.lower()}"
        done = 0
        lo = INT4_MIN
        while True:
            hi, items = await self._bound(source, lo)
            await self._batch(source, lo, hi)
            done += items
            self.findings.items_scanned += items
            if self.options.progress is not None:
                self.options.progress(stage, done, max(total, done))
            if hi >= INT4_MAX:
                return
            lo = hi + 1

    async def _bound(self, source: Source, lo: int) -> tuple[int, int]:
        """The inclusive upper id of the range starting at `lo`, and the items in it."""
        size = self.options.batch_size
        params = {"lo": lo, "n": size}
        row = (await self.conn.execute(_BY_SOURCE["bound"][source], params)).one()
        if row.n:
            return int(row.hi), int(row.n)
        params = {"lo": lo, "n": size * TAIL_ROWS_PER_ITEM, "source": int(source)}
        tail = await self.conn.scalar(_TAIL_BOUND, params)
        return (INT4_MAX if tail is None else int(tail)), 0

    async def _batch(self, source: Source, lo: int, hi: int) -> None:
        params = {"lo": lo, "hi": hi, "source": int(source)}
        rows = (await self.conn.execute(_BY_SOURCE["problems"][source], params)).all()
        for row in (await self.conn.execute(_BY_SOURCE["counts"][source], params)).all():
            entry = self.junction_counts.setdefault((row.tag_key, source), [0, 0])
            entry[0] += row.items
            entry[1] += row.private_items
            self.findings.links_scanned += row.items
        to_sync, orphans = [], []
        for row in rows:
            if row.present:
                self._note_item(source, row)
                to_sync.append(row.item_id)
            else:
                detail = f"{row.unwanted} rows, tags {list(row.unwanted_tags)}"
                problem = Problem(Kind.ORPHAN, source, row.item_id, detail)
                self.findings.note(problem, row.unwanted, self.options.show)
                orphans.append(row.item_id)
        if self.repairs is not None:
            await self._repair(source, to_sync, orphans)

    def _note_item(self, source: Source, row: Any) -> None:
        for kind, rows, tags in (
            (Kind.MISSING, row.missing, row.missing_tags),
            (Kind.EXTRA, row.unwanted, row.unwanted_tags),
            (Kind.STALE, row.stale, None),
        ):
            if rows:
                detail = f"{rows} links" + (f", tags {list(tags)}" if tags is not None else "")
                self.findings.note(
                    Problem(kind, source, row.item_id, detail), rows, self.options.show
                )

    async def _repair(self, source: Source, to_sync: list[int], orphans: list[int]) -> None:
        assert self.repairs is not None
        limits = self.options.limits
        for lo in range(0, len(to_sync), FIX_CHUNK):
            chunk = to_sync[lo : lo + FIX_CHUNK]
            resync = partial(_resync, source=source, ids=chunk)
            sync, _ = await in_transaction(self.engine, resync, limits)
            self.repairs.items += sync.items
            self.repairs.links_written += sync.written
        if orphans:
            deleted, _ = await in_transaction(
                self.engine, lambda c: link_repair.delete_orphan_links(c, source, orphans), limits
            )
            self.repairs.orphans_deleted += deleted

    async def _foreign_sources(self) -> None:
        """Junction rows under a source number with no table are orphans too."""
        count = int(await self.conn.scalar(_FOREIGN_COUNT) or 0)
        if not count:
            return
        self.findings.rows[Kind.ORPHAN] += count
        self.findings.items[Kind.ORPHAN] += count
        room = max(self.options.show - len(self.findings.examples), 0)
        for row in await self.conn.execute(_FOREIGN_EXAMPLES, {"n": room}):
            detail = f"1 rows, tags [{row.tag_key}]"
            self.findings.examples.append(Problem(Kind.ORPHAN, row.source, row.item_id, detail))
        if self.repairs is not None:
            async with self.engine.begin() as conn:
                result = await conn.execute(_FOREIGN_DELETE)
            self.repairs.orphans_deleted += result.rowcount

    async def _counts(self) -> None:
        stored = {
            (row.tag_key, Source(row.source)): [row.items, row.private_items]
            for row in await self.conn.execute(_STORED_COUNTS)
        }
        wrong = []
        for key in sorted(stored.keys() | self.junction_counts.keys()):
            have, want = stored.get(key, [0, 0]), self.junction_counts.get(key, [0, 0])
            if have != want:
                wrong.append(key)
                detail = (
                    f"tag {key[0]}: stored {have[0]} items ({have[1]} private), "
                    f"junction {want[0]} ({want[1]})"
                )
                problem = Problem(Kind.COUNT, key[1], None, detail)
                self.findings.note(problem, 1, self.options.show)
        if self.repairs is None:
            return
        for tag_key, source in wrong:
            recount = partial(link_repair.recount_tag, tag_key=tag_key, source=source)
            await in_transaction(self.engine, recount, self.options.limits)
            self.repairs.counts_recomputed += 1


async def _resync(conn: AsyncConnection, source: Source, ids: list[int]) -> link_repair.LinkSync:
    locked = await link_repair.lock_item_ids(conn, source, ids)
    return await link_repair.sync_links(conn, source, locked)


async def _scan(engine: AsyncEngine, options: _Options, repairs: Repairs | None) -> Findings:
    async with engine.connect() as conn:
        snapshot = await conn.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with snapshot.begin():
            await set_limits(snapshot, options.limits)
            return await _Scan(snapshot, engine, options, repairs).run()


async def verify(
    url_or_engine: str | AsyncEngine,
    *,
    fix: bool = False,
    batch_size: int = 5000,
    show: int = 20,
    progress: ProgressCallback | None = None,
    limits: Limits | None = None,
) -> VerifyReport:
    """Scan for every disagreement; with `fix`, repair them and scan again."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    options = _Options(batch_size, show, limits or Limits(statement_timeout_ms=120_000), progress)
    async with engine_for(url_or_engine) as engine:
        repairs = Repairs() if fix else None
        found = await _scan(engine, options, repairs)
        if not fix:
            return VerifyReport(found)
        recheck = replace(options, stage_prefix="recheck ")
        remaining = await _scan(engine, recheck, None)
    return VerifyReport(found, repairs, remaining)


# -- output -------------------------------------------------------------------------------


def _findings_table(title: str, findings: Findings) -> Table:
    table = Table(title=title)
    table.add_column("problem")
    table.add_column("rows", justify="right")
    table.add_column("items / tag counts", justify="right")
    for kind in Kind:
        table.add_row(kind.value, f"{findings.rows[kind]:,}", f"{findings.items[kind]:,}")
    return table


def render(report: VerifyReport, console: Console) -> None:
    """The summary table(s), the first problems found, and the repairs made."""
    found = report.found
    console.print(
        f"scanned {found.items_scanned:,} items and {found.links_scanned:,} links "
        f"in {found.seconds:.1f}s ({found.items_scanned / max(found.seconds, 1e-9):,.0f} items/s)"
    )
    console.print(_findings_table("found", found))
    for problem in found.examples:
        console.print(f"  {problem}", markup=False, highlight=False)
    if report.repairs is not None and report.remaining is not None:
        r = report.repairs
        console.print(
            f"repaired: {r.items:,} items ({r.links_written:,} links written), "
            f"{r.orphans_deleted:,} orphan rows deleted, {r.counts_recomputed:,} counts recomputed"
        )
        console.print(_findings_table("remaining after repair", report.remaining))
    console.print("clean" if report.clean else "MISMATCHES FOUND")
