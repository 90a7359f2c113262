"""Deterministic synthetic data for an empty database, bulk-loaded over asyncpg.

The plan is generated with numpy (see `streams`), items and tags are COPYed as records,
and the junction is COPYed in PostgreSQL's binary format built directly from numpy arrays.
Everything happens in one transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import struct
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import make_url

from gallery_gql.db.tables import ITEM_COLUMNS
from gallery_gql.ops.seed.items import Items, build_items
from gallery_gql.ops.seed.links import (
    Links,
    genonaut_links,
    slice_links,
    zipf_adversarial,
    zipf_links,
)
from gallery_gql.ops.seed.streams import PG_EPOCH, TAGS_CREATED, chunk_bounds
from gallery_gql.ops.seed.tags import TagTree, genonaut_tags
from gallery_gql.ops.seed.text import item_text
from gallery_gql.ops.seed.users import Users, build_users, default_users
from gallery_gql.ops.seed.zipf_tags import zipf_tags

Profile = Literal["genonaut", "zipf"]
Progress = Callable[[str, int, int], None]

CONTENT_TABLES = ("content_items", "content_items_auto")
SEEDED_TABLES = (
    "users",
    "tags",
    "tag_parents",
    *CONTENT_TABLES,
    "content_tags",
    "tag_counts",
)
# Tables whose non-constraint indexes are dropped for the load and rebuilt from their
# captured definitions afterwards (building once is far cheaper than maintaining per row).
BULK_INDEXED_TABLES = (*CONTENT_TABLES, "content_tags")
LINK_COLUMNS = ("created_at", "tag_key", "item_id", "source")
SESSION_SETTINGS = {
    "synchronous_commit": "off",
    "statement_timeout": "0",
    "lock_timeout": "30s",
    "maintenance_work_mem": "512MB",
}


class SeedError(RuntimeError):
    """The database cannot be seeded (it is not empty, or the plan is invalid)."""


@dataclass(frozen=True)
class SeedPlan:
    profile: Profile
    items: int
    users: int | None = None
    seed: int = 42

    def __post_init__(self) -> None:
        if self.profile not in ("genonaut", "zipf"):
            raise SeedError(f"unknown profile {self.profile!r}")
        if self.items < 0:
            raise SeedError("items must be >= 0")
        if self.users is not None and self.users < 1:
            raise SeedError("users must be >= 1")
        if self.seed < 0:
            raise SeedError("seed must be >= 0")

    @property
    def user_count(self) -> int:
        return self.users if self.users is not None else default_users(self.items)


@dataclass(frozen=True)
class SeedReport:
    users: int
    tags: int
    regular_items: int
    auto_items: int
    links: int
    seconds: float


@dataclass(frozen=True)
class _Dataset:
    users: Users
    tags: TagTree
    items: Items
    links: list[Links]  # one per chunk of items (streams.CHUNK_ITEMS)

    @property
    def link_total(self) -> int:
        return sum(len(links.tags) for links in self.links)

    def tag_counts(self) -> NDArray[np.int64]:
        """Items per [source, is_private, tag index]."""
        width = len(self.tags.names)
        flat = np.zeros(4 * width, dtype=np.int64)
        for (lo, hi), links in zip(chunk_bounds(len(self.items)), self.links, strict=True):
            slot = self.items.source[lo:hi].astype(np.int64) * 2 + self.items.private[lo:hi]
            slots = np.repeat(slot, np.diff(links.indptr)) * width + links.tags
            flat += np.bincount(slots, minlength=4 * width)
        return flat.reshape(2, 2, width)


def _build(plan: SeedPlan) -> _Dataset:
    users = build_users(plan.user_count, plan.seed)
    items = build_items(plan.items, plan.user_count, plan.seed)
    bounds = chunk_bounds(plan.items)
    if plan.profile == "genonaut":
        tree, leaves = genonaut_tags(plan.seed)
        links = [genonaut_links(plan.seed, c, hi - lo, leaves) for c, (lo, hi) in enumerate(bounds)]
        return _Dataset(users, tree, items, links)
    zipf = zipf_tags(plan.items, plan.seed)
    extra = zipf_adversarial(items, plan.seed, zipf)
    links = [
        zipf_links(plan.seed, c, zipf, slice_links(extra, lo, hi))
        for c, (lo, hi) in enumerate(bounds)
    ]
    return _Dataset(users, zipf.tree, items, links)


# -- connection helpers -------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    """An SQLAlchemy URL (`postgresql+asyncpg://...`) as a plain libpq-style DSN."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _connect(url: str) -> Any:
    return await asyncpg.connect(asyncpg_dsn(url))


_EMPTY_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM users)
   AND NOT EXISTS (SELECT 1 FROM content_items)
   AND NOT EXISTS (SELECT 1 FROM content_items_auto)
"""


async def database_is_empty(url: str) -> bool:
    """True when the database holds no users and no content items."""
    conn = await _connect(url)
    try:
        return bool(await conn.fetchval(_EMPTY_SQL))
    finally:
        await conn.close()


async def _claim_empty_database(conn: Any) -> None:
    """Lock every seeded table, then refuse unless all of them are empty."""
    try:
        await conn.execute(f"LOCK TABLE {', '.join(SEEDED_TABLES)} IN ACCESS EXCLUSIVE MODE")
    except asyncpg.LockNotAvailableError as exc:
        raise SeedError("the gallery tables are in use by other sessions; stop them") from exc
    occupied = [t for t in SEEDED_TABLES if await conn.fetchval(f"SELECT EXISTS (TABLE {t})")]
    if occupied:
        raise SeedError(
            "seeding needs an empty database, but these tables hold rows: " + ", ".join(occupied)
        )


_BULK_CONSTRAINTS_SQL = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_ddl,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s',
              conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create_ddl
FROM pg_constraint
WHERE conrelid = ANY($1::regclass[]) AND contype::text = $2
ORDER BY conrelid::regclass::text, conname
"""
_BULK_INDEXES_SQL = """
SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS drop_ddl,
       pg_get_indexdef(i.indexrelid) AS create_ddl
FROM pg_index i
WHERE i.indrelid = ANY($1::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text
"""


async def _drop_bulk_structures(conn: Any) -> list[str]:
    """Drop the big tables' foreign keys and their indexes that back no constraint (the
    junction has no constraint index: its unique index is a plain one); return the DDL that
    recreates them, in the order to run it.

    Per-row foreign-key triggers and index maintenance dominate a bulk load; building each
    index once and validating each foreign key with one join afterwards is far cheaper.
    The DDL comes from the catalog, so the rebuilt objects are identical to the dropped ones.
    """
    tables = list(BULK_INDEXED_TABLES)
    groups = (
        await conn.fetch(_BULK_CONSTRAINTS_SQL, tables, "f"),
        await conn.fetch(_BULK_INDEXES_SQL, tables),
    )
    for rows in groups:
        for row in rows:
            await conn.execute(row["drop_ddl"])
    foreign_keys, indexes = ([str(r["create_ddl"]) for r in g] for g in groups)
    return [*indexes, *foreign_keys]


async def _restore_structures(conn: Any, ddl: list[str], progress: Progress) -> None:
    progress("indexes", 0, len(ddl))
    for done, statement in enumerate(ddl, start=1):
        await conn.execute(statement)
        progress("indexes", done, len(ddl))


async def _reset_identity(conn: Any, table: str, column: str, last: int) -> None:
    await conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), $1, $2)",
        max(last, 1),
        last > 0,
    )


# -- loading ------------------------------------------------------------------------------


def _moment(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


async def _load_users(conn: Any, users: Users, progress: Progress) -> None:
    total = len(users.ids)
    progress("users", 0, total)
    records = [
        (users.ids[i], users.usernames[i], users.emails[i], active, i == 0, _moment(created))
        for i, (active, created) in enumerate(
            zip(users.active.tolist(), users.created_us.tolist(), strict=True)
        )
    ]
    columns = ("id", "username", "email", "is_active", "is_admin", "created_at")
    await conn.copy_records_to_table("users", records=records, columns=columns)
    progress("users", total, total)


async def _load_tags(conn: Any, tree: TagTree, progress: Progress) -> list[Any]:
    """Insert tags with tag_key = index + 1; return their ids as asyncpg UUIDs, by index.

    COPY writes identity values as given (like OVERRIDING SYSTEM VALUE), so the sequence is
    moved past them. asyncpg's own UUID objects encode without a Python-level round trip,
    which matters when they fill millions of array elements.
    """
    total = len(tree.names)
    progress("tags", 0, total)
    stamp = TAGS_CREATED
    records = [
        (tree.ids[i], i + 1, tree.names[i], tree.metadata[i], stamp, stamp) for i in range(total)
    ]
    columns = ("id", "tag_key", "name", "tag_metadata", "created_at", "updated_at")
    await conn.copy_records_to_table("tags", records=records, columns=columns)
    edges = [(tree.ids[child], tree.ids[parent]) for child, parent in tree.edges]
    await conn.copy_records_to_table("tag_parents", records=edges, columns=("tag_id", "parent_id"))
    await _reset_identity(conn, "tags", "tag_key", total)
    progress("tags", total, total)
    return list(await conn.fetch("SELECT id FROM tags ORDER BY tag_key"))


def _item_records(
    data: _Dataset, seed: int, chunk: int, lo: int, hi: int, tag_ids: NDArray[Any]
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(source, row) for each item of one chunk, in global order."""
    items, links = data.items, data.links[chunk]
    text = item_text(seed, chunk, items.source[lo:hi], items.item_id[lo:hi])
    arrays = tag_ids[links.tags].tolist()
    bounds = links.indptr.tolist()
    creators = data.users.ids
    columns = zip(
        items.source[lo:hi].tolist(),
        items.item_id[lo:hi].tolist(),
        items.created_us[lo:hi].tolist(),
        items.quality[lo:hi].tolist(),
        items.private[lo:hi].tolist(),
        items.creator[lo:hi].tolist(),
        strict=True,
    )
    for i, (source, ident, created, quality, private, creator) in enumerate(columns):
        moment = _moment(created)
        row = (
            ident,
            text.title[i],
            text.content_type[i],
            text.content_data[i],
            text.path_thumb[i],
            text.alt_res[i],
            text.prompt[i],
            text.metadata[i],
            creators[creator],
            quality,
            private,
            moment,
            moment,
            arrays[bounds[i] : bounds[i + 1]],
        )
        yield source, row


async def _load_items(
    conn: Any, data: _Dataset, seed: int, tag_ids: list[Any], progress: Progress
) -> None:
    total = len(data.items)
    progress("items", 0, total)
    id_objects = np.empty(len(tag_ids), dtype=object)
    id_objects[:] = [row["id"] for row in tag_ids]
    for chunk, (lo, hi) in enumerate(chunk_bounds(total)):
        by_source: tuple[list[tuple[Any, ...]], ...] = ([], [])
        for source, row in _item_records(data, seed, chunk, lo, hi, id_objects):
            by_source[source].append(row)
        for table, rows in zip(CONTENT_TABLES, by_source, strict=True):
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=ITEM_COLUMNS)
        progress("items", hi, total)
    for source, table in enumerate(CONTENT_TABLES):
        await _reset_identity(conn, table, "id", int(np.sum(data.items.source == source)))


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
# One binary COPY tuple of content_tags: field count, then (length, value) per column.
_LINK_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("created_len", ">i4"),
        ("created_at", ">i8"),
        ("tag_len", ">i4"),
        ("tag_key", ">i4"),
        ("item_len", ">i4"),
        ("item_id", ">i4"),
        ("source_len", ">i4"),
        ("source", ">i2"),
    ]
)
_LINK_CONSTANTS = {
    "fields": 4,
    "created_len": 8,
    "tag_len": 4,
    "item_len": 4,
    "source_len": 2,
}


LINK_BATCH = 1_000_000


def junction_order(data: _Dataset) -> tuple[NDArray[np.int32], NDArray[np.uint16]]:
    """Every (item position, tag index) link, in ix_content_tags_newest order.

    Loading the heap in that order makes that index's build a near-linear pass over
    presorted input and keeps each tag's newest rows together on disk. Item positions
    ascend with (created_at, id) within a source, so reversed positions under a stable
    sort by (tag, source) give (tag, source, created_at DESC, item_id DESC).
    """
    assert len(data.tags.names) * 2 < 2**16, "tag indices must fit the uint16 sort key"
    sizes = [np.diff(links.indptr) for links in data.links]
    item = np.concatenate(
        [
            np.repeat(np.arange(lo, hi, dtype=np.int32), size)
            for (lo, hi), size in zip(chunk_bounds(len(data.items)), sizes, strict=True)
        ]
        or [np.empty(0, dtype=np.int32)]
    )[::-1]
    tag = np.concatenate([links.tags for links in data.links] or [np.empty(0, np.int32)])
    tag = tag.astype(np.uint16)[::-1]
    group = tag * np.uint16(2) + data.items.source[item].astype(np.uint16)
    order = np.argsort(group, kind="stable")
    return item[order], tag[order]


def encode_link_rows(items: Items, item: NDArray[np.int32], tag: NDArray[np.uint16]) -> bytes:
    """Junction rows as binary COPY tuples (no header or trailer)."""
    rows = np.empty(len(item), dtype=_LINK_ROW)
    for name, value in _LINK_CONSTANTS.items():
        rows[name] = value
    rows["created_at"] = items.created_us[item]
    rows["tag_key"] = tag.astype(np.int32) + 1
    rows["item_id"] = items.item_id[item]
    rows["source"] = items.source[item]
    return rows.tobytes()


async def _link_stream(data: _Dataset, progress: Progress) -> AsyncIterator[bytes]:
    item, tag = junction_order(data)
    total = len(item)
    progress("links", 0, total)
    yield _COPY_HEADER
    for lo in range(0, total, LINK_BATCH):
        hi = min(lo + LINK_BATCH, total)
        yield encode_link_rows(data.items, item[lo:hi], tag[lo:hi])
        progress("links", hi, total)
    yield _COPY_TRAILER


async def _load_links(conn: Any, data: _Dataset, progress: Progress) -> None:
    """COPY the junction frozen, so its pages are all-visible at once and index-only scans
    need no VACUUM first. FREEZE requires a table truncated in this transaction; it was
    verified empty under lock, so the TRUNCATE loses nothing."""
    await conn.execute("TRUNCATE content_tags")
    await conn.copy_to_table(
        "content_tags",
        source=_link_stream(data, progress),
        columns=LINK_COLUMNS,
        format="binary",
        freeze=True,
    )


async def _load_counts(conn: Any, data: _Dataset, progress: Progress) -> None:
    """tag_counts straight from the generated links: one row per (tag, source) present."""
    counts = data.tag_counts()
    records = []
    for source in (0, 1):
        items = counts[source].sum(axis=0)
        private = counts[source][1]
        for tag in np.flatnonzero(items).tolist():
            records.append((tag + 1, source, int(items[tag]), int(private[tag])))
    progress("counts", 0, len(records))
    await conn.copy_records_to_table(
        "tag_counts", records=records, columns=("tag_key", "source", "items", "private_items")
    )
    progress("counts", len(records), len(records))


def _ignore(_stage: str, _done: int, _total: int) -> None:
    return None


async def seed_database(url: str, plan: SeedPlan, progress: Progress | None = None) -> SeedReport:
    """Fill an empty, migrated database with the plan's data; raise SeedError if not empty."""
    report = progress or _ignore
    started = time.perf_counter()
    conn = await _connect(url)
    try:
        async with conn.transaction():
            for name, value in SESSION_SETTINGS.items():
                await conn.execute(f"SET LOCAL {name} = '{value}'")
            await _claim_empty_database(conn)
            data = _build(plan)
            restore_ddl = await _drop_bulk_structures(conn)
            await _load_users(conn, data.users, report)
            tag_ids = await _load_tags(conn, data.tags, report)
            await _load_items(conn, data, plan.seed, tag_ids, report)
            await _load_links(conn, data, report)
            await _load_counts(conn, data, report)
            await _restore_structures(conn, restore_ddl, report)
        report("analyze", 0, 1)
        await conn.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}")
        report("analyze", 1, 1)
    finally:
        await conn.close()
    regular = int(np.sum(data.items.source == 0))
    return SeedReport(
        users=len(data.users.ids),
        tags=len(data.tags.names),
        regular_items=regular,
        auto_items=len(data.items) - regular,
        links=data.link_total,
        seconds=time.perf_counter() - started,
    )
