"""Backfill: fills an empty or drifted junction, resumes exactly, runs alongside writes."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gallery_gql.cli import app
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.tag_refs import TagRef
from gallery_gql.gallery.writes.tagging import Retag
from gallery_gql.ops.backfill import Limits, backfill
from gallery_gql.settings import get_settings
from tests.factories import Dataset, build_gallery, retag_locked
from tests.integrity import integrity_problems

REGULAR, AUTO = 40, 90
EMPTY_DERIVED = ("DELETE FROM content_tags", "DELETE FROM tag_counts")
# tag_counts as the junction has them: the state a backfill starts from (counts follow the
# junction; the junction has drifted from the arrays)
COUNTS_FROM_JUNCTION = (
    "DELETE FROM tag_counts",
    """INSERT INTO tag_counts (tag_key, source, items, private_items)
    SELECT ct.tag_key, ct.source, count(*), count(*) FILTER (WHERE i.is_private)
    FROM content_tags ct
    JOIN (SELECT 0 AS source, id, is_private FROM content_items
          UNION ALL SELECT 1, id, is_private FROM content_items_auto) i
      ON i.source = ct.source AND i.id = ct.item_id
    GROUP BY ct.tag_key, ct.source""",
)


async def _sql(engine: AsyncEngine, *statements: str) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def _scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)) or 0)


async def _links(engine: AsyncEngine) -> set[tuple[int, int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT source, item_id, tag_key FROM content_tags"))
        return {(r.source, r.item_id, r.tag_key) for r in rows}


async def _progress(engine: AsyncEngine) -> dict[int, tuple[int, int, int, bool]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM backfill_progress"))
        return {
            r.source: (r.last_item_id, r.items_done, r.links_written, r.finished_at is not None)
            for r in rows
        }


@pytest.fixture
async def emptied(engine: AsyncEngine) -> Dataset:
    """A gallery whose items carry arrays, with no junction rows and no counts."""
    dataset = await build_gallery(engine, regular=REGULAR, auto=AUTO)
    await _sql(engine, *EMPTY_DERIVED)
    return dataset


async def test_fills_an_empty_junction(engine: AsyncEngine, emptied: Dataset) -> None:
    seen: list[tuple[str, int, int]] = []
    report = await backfill(engine, batch_size=17, progress=lambda *args: seen.append(args))
    assert await integrity_problems(engine) == []
    total = await _scalar(engine, "SELECT count(*) FROM content_tags")
    assert total > 0
    assert (report.items, report.links, report.written) == (REGULAR + AUTO, total, total)
    assert report.finished
    progress = await _progress(engine)
    assert progress[0] == (REGULAR, REGULAR, report.sources[0].added, True)
    assert progress[1] == (AUTO, AUTO, report.sources[1].added, True)
    assert ("auto items", AUTO, AUTO) in seen
    assert ("auto links", report.sources[1].links, report.sources[1].links) in seen


async def test_repairs_a_drifted_junction(engine: AsyncEngine, emptied: Dataset) -> None:
    await backfill(engine, batch_size=50)
    before = await _links(engine)
    await _sql(
        engine,
        # 5 rows missing
        """DELETE FROM content_tags WHERE (source, item_id, tag_key) IN (
            SELECT source, item_id, tag_key FROM content_tags
            ORDER BY source, item_id, tag_key LIMIT 5)""",
        # extra rows: the one tag no item carries, on 3 items
        """INSERT INTO content_tags (created_at, tag_key, item_id, source)
        SELECT created_at, 10, id, 1 FROM content_items_auto
        ORDER BY id LIMIT 3""",
        # 4 stale sort keys
        """UPDATE content_tags SET created_at = now()
        WHERE (source, item_id, tag_key) IN (
            SELECT source, item_id, tag_key FROM content_tags
            ORDER BY source DESC, item_id DESC LIMIT 4)""",
        *COUNTS_FROM_JUNCTION,
    )
    assert await integrity_problems(engine) != []
    report = await backfill(engine, batch_size=13, reset=True)
    assert await integrity_problems(engine) == []
    assert await _links(engine) == before
    added = sum(s.added for s in report.sources)
    removed = sum(s.removed for s in report.sources)
    restamped = sum(s.restamped for s in report.sources)
    assert (added, removed, restamped) == (5, 3, 4)


async def test_a_second_run_writes_nothing(engine: AsyncEngine, emptied: Dataset) -> None:
    first = await backfill(engine, batch_size=25)
    links = await _links(engine)
    again = await backfill(engine, batch_size=25)
    assert (again.items, again.written) == (0, 0)
    assert again.finished
    rescan = await backfill(engine, batch_size=25, reset=True)
    assert (rescan.items, rescan.written) == (REGULAR + AUTO, 0)
    assert await _links(engine) == links
    assert first.written == len(links)
    assert await integrity_problems(engine) == []


@pytest.mark.parametrize("batches", [1, 3, 8])
async def test_resumes_exactly_after_stopping(
    engine: AsyncEngine, emptied: Dataset, batches: int
) -> None:
    size = 7
    first = await backfill(engine, batch_size=size, stop_after_batches=batches)
    assert not first.finished
    assert sum(s.batches for s in first.sources) == batches
    progress = await _progress(engine)
    links = await _links(engine)
    # exactly the links of the items up to each checkpoint, nothing beyond
    for source, (last_id, done, written, finished) in progress.items():
        assert finished == (last_id == {0: REGULAR, 1: AUTO}[source])
        own = {link for link in links if link[0] == source}
        assert all(item_id <= last_id for _, item_id, _ in own)
        assert written == len(own)
        assert done == last_id
    second = await backfill(engine, batch_size=size)
    assert second.finished
    assert await integrity_problems(engine) == []
    total = await _scalar(engine, "SELECT count(*) FROM content_tags")
    assert first.written + second.written == total
    assert sum(row[2] for row in (await _progress(engine)).values()) == total


async def test_cancelled_mid_batch_resumes(engine: AsyncEngine, emptied: Dataset) -> None:
    """A batch blocked on an item's row lock (earlier items of it already locked and
    nothing committed) is cancelled: it leaves no trace, and the next run completes."""
    blocked_id = 50
    async with engine.connect() as holder:
        await holder.execute(
            text(f"SELECT 1 FROM content_items_auto WHERE id = {blocked_id} FOR UPDATE")
        )
        limits = Limits(lock_timeout_ms=30_000)
        task = asyncio.create_task(backfill(engine, batch_size=20, limits=limits))
        await _wait_for_lock_wait(engine)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await holder.rollback()
    progress = await _progress(engine)
    assert progress[0][0] == REGULAR
    assert progress[1][0] == 40  # the batch of ids 41..60 did not commit
    assert not any(s == 1 and item > 40 for s, item, _ in await _links(engine))
    resumed = await backfill(engine, batch_size=20)
    assert resumed.sources[1].items == AUTO - 40
    assert await integrity_problems(engine) == []
    total = await _scalar(engine, "SELECT count(*) FROM content_tags")
    assert sum(row[2] for row in (await _progress(engine)).values()) == total


async def _wait_for_lock_wait(engine: AsyncEngine) -> None:
    sql = """SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'"""
    for _ in range(200):
        if await _scalar(engine, sql):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the backfill never waited for the lock")


async def test_runs_alongside_retags(engine: AsyncEngine, emptied: Dataset) -> None:
    async with engine.connect() as conn:
        refs = [
            TagRef(r.tag_key, r.id)
            for r in await conn.execute(text("SELECT id, tag_key FROM tags"))
        ]
    keys = [ItemKey(Source.REGULAR, i) for i in range(1, REGULAR + 1)]
    keys += [ItemKey(Source.AUTO, i) for i in range(1, AUTO + 1)]
    done = asyncio.Event()

    async def writer(seed: int) -> int:
        """Retags 3 random items at a time; returns how many writes overlapped the backfill."""
        rng, writes, during = random.Random(seed), 0, 0
        while not done.is_set() or writes < 5:
            changes = [
                Retag(key, **{rng.choice(["set", "add", "remove"]): frozenset(rng.sample(refs, 3))})  # type: ignore[arg-type]
                for key in rng.sample(keys, 3)
            ]
            async with engine.begin() as conn:
                await retag_locked(conn, changes)
            writes += 1
            during += not done.is_set()
        return during

    writers = [asyncio.create_task(writer(seed)) for seed in range(3)]
    report = await backfill(engine, batch_size=6)
    done.set()
    overlapping = await asyncio.gather(*writers)
    assert report.finished
    assert min(overlapping) >= 5
    assert report.sources[0].retries + report.sources[1].retries < 10
    assert await integrity_problems(engine) == []


runner = CliRunner()


async def test_cli_backfill_then_verify(
    engine: AsyncEngine, emptied: Dataset, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    result = await asyncio.to_thread(
        runner.invoke, app, ["backfill", "--batch-size", "30", "--verify"]
    )
    assert result.exit_code == 0, result.output
    assert "written" in result.output
    assert "clean" in result.output
    assert await integrity_problems(engine) == []
    bad = await asyncio.to_thread(runner.invoke, app, ["backfill", "--source", "nope"])
    assert bad.exit_code == 1
    get_settings.cache_clear()
