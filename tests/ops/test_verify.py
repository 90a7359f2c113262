"""Verify: finds every kind of disagreement with exact counts; --fix repairs them all."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gallery_gql.cli import app
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.tag_refs import TagRef
from gallery_gql.gallery.writes.tagging import Retag
from gallery_gql.ops.verify import Kind, verify
from gallery_gql.settings import get_settings
from tests.factories import build_gallery, retag_locked
from tests.integrity import integrity_problems

runner = CliRunner()
# Counts as verify defines them: per junction row; rows without an item count as public.
COUNTS_FROM_JUNCTION = (
    "DELETE FROM tag_counts",
    """INSERT INTO tag_counts (tag_key, source, items, private_items)
    SELECT ct.tag_key, ct.source, count(*), count(*) FILTER (WHERE i.is_private)
    FROM content_tags ct
    LEFT JOIN (SELECT 0 AS source, id, is_private FROM content_items
               UNION ALL SELECT 1, id, is_private FROM content_items_auto) i
      ON i.source = ct.source AND i.id = ct.item_id
    WHERE ct.source IN (0, 1)
    GROUP BY ct.tag_key, ct.source""",
)


async def _sql(engine: AsyncEngine, sql: str) -> list[tuple[int, ...]]:
    async with engine.begin() as conn:
        result = await conn.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else []


async def _break(engine: AsyncEngine) -> tuple[Counter[Kind], Counter[Kind]]:
    """One or more of every kind of problem; returns the expected (rows, items) per kind."""
    missing = await _sql(
        engine,
        """DELETE FROM content_tags WHERE (source, item_id, tag_key) IN (
            SELECT source, item_id, tag_key FROM content_tags WHERE source = 0 AND item_id > 1
            ORDER BY item_id, tag_key LIMIT 3)
        RETURNING item_id""",
    )
    # tag key 10 is on no item
    await _sql(
        engine,
        """INSERT INTO content_tags (created_at, tag_key, item_id, source)
        SELECT created_at, 10, id, 1 FROM content_items_auto WHERE id IN (3, 4)""",
    )
    stale = await _sql(
        engine,
        """UPDATE content_tags SET created_at = created_at - interval '1 second'
        WHERE (source, item_id, tag_key) IN (
            SELECT source, item_id, tag_key FROM content_tags WHERE source = 1
            ORDER BY item_id DESC, tag_key LIMIT 4)
        RETURNING item_id""",
    )
    deleted = await _sql(
        engine,
        """DELETE FROM content_items WHERE id = (
            SELECT item_id FROM content_tags WHERE source = 0 AND item_id > 1
            GROUP BY item_id HAVING count(*) >= 2 ORDER BY item_id DESC LIMIT 1)
        RETURNING cardinality(tags)""",
    )
    await _sql(
        engine,
        """INSERT INTO content_tags (created_at, tag_key, item_id, source)
        VALUES (now(), 1, 9999, 1), (now(), 2, 9999, 1),
               (now(), 1, 0, 0), (now(), 3, 1, 5)""",
    )
    for statement in COUNTS_FROM_JUNCTION:
        await _sql(engine, statement)
    await _sql(engine, "UPDATE tag_counts SET items = items + 5 WHERE tag_key = 1 AND source = 0")
    rows = Counter(
        {
            Kind.MISSING: 3,
            Kind.EXTRA: 2,
            Kind.STALE: 4,
            Kind.ORPHAN: 4 + deleted[0][0],
            Kind.COUNT: 1,
        }
    )
    items = Counter(
        {
            Kind.MISSING: len(set(missing)),
            Kind.EXTRA: 2,
            Kind.STALE: len(set(stale)),
            Kind.ORPHAN: 4,  # auto:9999, regular:0, the deleted item, source 5
            Kind.COUNT: 1,
        }
    )
    return rows, items


@pytest.fixture
async def gallery(engine: AsyncEngine) -> None:
    await build_gallery(engine, regular=40, auto=90)


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
async def test_a_consistent_gallery_is_clean(
    engine: AsyncEngine, gallery: None, batch_size: int
) -> None:
    report = await verify(engine, batch_size=batch_size)
    assert report.clean
    assert report.found.items_scanned == 130
    links = await _sql(engine, "SELECT count(*) FROM content_tags")
    assert report.found.links_scanned == links[0][0]


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
async def test_reports_each_kind_with_exact_counts(
    engine: AsyncEngine, gallery: None, batch_size: int
) -> None:
    rows, items = await _break(engine)
    report = await verify(engine, batch_size=batch_size, show=100)
    assert not report.clean
    assert report.found.rows == rows
    assert report.found.items == items
    assert {problem.kind for problem in report.found.examples} == set(Kind)
    orphans = {(p.source, p.item_id) for p in report.found.examples if p.kind is Kind.ORPHAN}
    assert {(1, 9999), (0, 0), (5, 1)} <= orphans


async def test_fix_repairs_everything(engine: AsyncEngine, gallery: None) -> None:
    rows, _ = await _break(engine)
    report = await verify(engine, fix=True, batch_size=7)
    assert report.found.rows == rows
    assert report.remaining is not None
    assert report.remaining.clean
    assert report.clean
    assert report.repairs is not None
    assert report.repairs.links_written == rows[Kind.MISSING] + rows[Kind.EXTRA] + rows[Kind.STALE]
    assert report.repairs.orphans_deleted == rows[Kind.ORPHAN]
    assert report.repairs.counts_recomputed == 1
    assert await integrity_problems(engine) == []
    assert (await verify(engine)).clean


async def test_fix_fills_an_empty_junction(engine: AsyncEngine, gallery: None) -> None:
    links = (await _sql(engine, "SELECT count(*) FROM content_tags"))[0][0]
    pairs = (await _sql(engine, "SELECT count(*) FROM tag_counts WHERE items > 0"))[0][0]
    await _sql(engine, "DELETE FROM content_tags")
    report = await verify(engine, fix=True, batch_size=50)
    assert report.found.rows == Counter({Kind.MISSING: links, Kind.COUNT: pairs})
    assert report.clean
    assert await integrity_problems(engine) == []


async def test_concurrent_writes_cause_no_false_reports(engine: AsyncEngine, gallery: None) -> None:
    """The scan is one snapshot: counts summed over batches match tag_counts even while
    retags move links between tags in batches already scanned and not yet scanned."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, tag_key FROM tags"))
        refs = [TagRef(r.tag_key, r.id) for r in rows]
    keys = [ItemKey(Source.AUTO, i) for i in range(1, 91)]
    done = asyncio.Event()

    async def writer(seed: int) -> int:
        rng, writes = random.Random(seed), 0
        while not done.is_set():
            change = Retag(rng.choice(keys), set=frozenset(rng.sample(refs, 4)))
            async with engine.begin() as conn:
                await retag_locked(conn, [change])
            writes += 1
        return writes

    writers = [asyncio.create_task(writer(seed)) for seed in range(2)]
    report = await verify(engine, batch_size=3)
    done.set()
    assert min(await asyncio.gather(*writers)) > 0
    assert report.clean, report.found.examples


async def test_cli_exit_codes(
    engine: AsyncEngine, gallery: None, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    async def run(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(runner.invoke, app, ["verify", *args])
        return result.exit_code, result.output

    code, output = await run()
    assert (code, output.strip().splitlines()[-1]) == (0, "clean")
    await _break(engine)
    code, output = await run("--batch-size", "10", "--show", "3")
    assert code == 1
    assert "MISMATCHES FOUND" in output
    kinds = tuple(f"  {kind.value} " for kind in Kind)
    assert sum(line.startswith(kinds) for line in output.splitlines()) == 3
    code, output = await run("--fix")
    assert code == 0, output
    assert "repaired:" in output
    code, _ = await run()
    assert code == 0
    assert await integrity_problems(engine) == []
    get_settings.cache_clear()
