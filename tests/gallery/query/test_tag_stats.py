"""TagDirectory: a process keeps resolved filter tags for a TTL, never unknown ids, and
the pair estimates for their own, longer TTL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.gallery.query.tag_stats import TagDirectory, resolve_tags
from tests.factories import build_gallery


async def test_answers_are_kept_for_the_ttl_and_match_a_fresh_resolution(
    engine: AsyncEngine,
) -> None:
    dataset = await build_gallery(engine)
    ids = list(dataset.tags[:3])
    now = [100.0]
    directory = TagDirectory(ttl=2.0, clock=lambda: now[0])
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    async with engine.connect() as conn:
        fresh = await resolve_tags(conn, ids)
        statements.clear()
        first = await directory.resolve(conn, ids)
        kept = await directory.resolve(conn, ids[:2])
        assert len(statements) == 3  # the pair estimates (whether stored, then them), the tags
        assert first == fresh
        assert kept.by_id == {tag: fresh.by_id[tag] for tag in ids[:2]}
        assert kept.stats.source_items == fresh.stats.source_items
        now[0] += 2.0  # expired: asked again
        await directory.resolve(conn, ids[:1])
        assert len(statements) == 4
        unknown = uuid.uuid4()  # never kept: asked every time, and absent
        for _ in range(2):
            assert unknown not in (await directory.resolve(conn, [ids[0], unknown])).by_id
        assert len(statements) == 6
        now[0] += TagDirectory.PAIRS_TTL  # the pair estimates read again, with the tags
        await directory.resolve(conn, ids[:1])
        assert len(statements) == 9


async def test_pairs_read_at_start_spare_the_first_request(engine: AsyncEngine) -> None:
    dataset = await build_gallery(engine)
    directory = TagDirectory(ttl=2.0)
    await directory.load_pairs(engine, 5.0)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with engine.connect() as conn:
        await directory.resolve(conn, dataset.tags[:2])
    assert len(statements) == 1
    unreachable = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    await directory.load_pairs(unreachable, 5.0)  # left to the first request
    await unreachable.dispose()
    async with engine.connect() as conn:
        await directory.resolve(conn, dataset.tags[2:4])
    assert len(statements) == 4
