"""TagDirectory: a process keeps resolved filter tags for a TTL, never unknown ids; the
pair estimates are read apart from requests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.gallery.query.pair_counts import load_pair_counts
from gallery_gql.gallery.query.tag_stats import TagDirectory, resolve_tags
from gallery_gql.ops.pair_stats import refresh_pair_counts
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
        assert len(statements) == 1
        assert first == fresh
        assert kept.by_id == {tag: fresh.by_id[tag] for tag in ids[:2]}
        assert kept.stats.source_items == fresh.stats.source_items
        now[0] += 2.0  # expired: asked again
        await directory.resolve(conn, ids[:1])
        assert len(statements) == 2
        unknown = uuid.uuid4()  # never kept: asked every time, and absent
        for _ in range(2):
            assert unknown not in (await directory.resolve(conn, [ids[0], unknown])).by_id
        assert len(statements) == 4


async def test_pairs_are_read_apart_from_requests(engine: AsyncEngine) -> None:
    dataset = await build_gallery(engine)
    async with engine.begin() as conn:
        await refresh_pair_counts(conn)
    directory = TagDirectory(ttl=2.0)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with engine.connect() as conn:
        assert not (await directory.resolve(conn, dataset.tags[:2])).stats.pairs.covered
        await directory.load_pairs(engine, 5.0)
        statements.clear()
        resolved = await directory.resolve(conn, dataset.tags[2:4])
        assert len(statements) == 1
        assert resolved.stats.pairs == await load_pair_counts(conn)
    unreachable = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    await directory.load_pairs(unreachable, 5.0)  # the ones read before are kept
    await unreachable.dispose()
    async with engine.connect() as conn:
        assert (await directory.resolve(conn, dataset.tags[:1])).stats.pairs == resolved.stats.pairs
