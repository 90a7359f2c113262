"""The pair estimates: X^T X of the item x tag matrix equals counting pairs item by item;
the refresh of a gallery smaller than the sample counts every item, so its estimates are
the exact co-occurrences; the planner reads them back (none before migration 0004)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

import gallery_gql.ops.pair_stats as pair_stats
from gallery_gql.app import create_app
from gallery_gql.cli import app
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.pair_counts import NO_PAIRS, load_pair_counts
from gallery_gql.gallery.query.tag_stats import TagDirectory, resolve_tags
from gallery_gql.ops.pair_stats import pair_matrix, refresh_pair_counts
from gallery_gql.settings import Settings
from tests.factories import build_gallery

runner = CliRunner()

links = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 7)), unique=True, max_size=200)


@given(links=links)
def test_the_pair_matrix_counts_the_items_carrying_both(links: list[tuple[int, int]]) -> None:
    pair_stats.CHUNK_ITEMS = 7  # several chunks
    items = np.asarray([item * 1_000 for item, _ in links], dtype=np.int64)
    columns = np.asarray([column for _, column in links], dtype=np.int64)
    counts = pair_matrix(items, columns, 8)
    carried: dict[int, set[int]] = {}
    for item, column in links:
        carried.setdefault(item, set()).add(column)
    for a in range(8):
        for b in range(8):
            want = sum(1 for tags in carried.values() if a in tags and b in tags)
            assert counts[a, b] == want


async def _exact_pairs(engine: AsyncEngine, source: Source) -> dict[tuple[int, int], int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT a.tag_key, b.tag_key, count(*) FROM content_tags a"
                " JOIN content_tags b ON b.source = a.source AND b.item_id = a.item_id"
                " AND b.tag_key > a.tag_key WHERE a.source = :source GROUP BY 1, 2"
            ),
            {"source": int(source)},
        )
        return {(int(a), int(b)): int(n) for a, b, n in rows}


async def test_a_small_gallery_is_counted_whole(engine: AsyncEngine) -> None:
    await build_gallery(engine, regular=60, auto=150)
    async with engine.begin() as conn:
        done = await refresh_pair_counts(conn)
    assert [summary.sampled for summary in done] == [60, 150]
    async with engine.connect() as conn:
        pairs = await load_pair_counts(conn)
        counts = dict(
            tuple(row)  # type: ignore[misc]
            for row in await conn.execute(text("SELECT tag_key, items FROM tag_counts"))
        )
    for source in Source:
        exact = await _exact_pairs(engine, source)
        covered = pairs.covered[source]
        assert covered
        assert len(covered) == done[int(source)].covered
        for a, b in combinations(sorted(covered), 2):
            assert pairs.items(a, b, source) == exact.get((a, b), 0)
            assert pairs.items(b, a, source) == exact.get((a, b), 0)
        assert pairs.items(min(covered), max(counts) + 1, source) is None
    # the refresh replaces what was there
    async with engine.begin() as conn:
        await refresh_pair_counts(conn)
    async with engine.connect() as conn:
        assert await load_pair_counts(conn) == pairs
        resolved = await resolve_tags(conn, [], ["tag-0"])
    assert resolved.stats.pairs == pairs


async def test_a_database_without_the_table_has_no_pairs(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("DROP TABLE tag_pair_counts"))
        assert await load_pair_counts(conn) is NO_PAIRS
        await conn.rollback()


def test_the_command_refreshes_them(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner.invoke(app, ["pair-stats"])
    assert result.exit_code == 0, result.output
    assert "regular" in result.output


async def test_a_worker_reads_them_at_its_start(engine: AsyncEngine, settings: Settings) -> None:
    await build_gallery(engine, regular=60, auto=150)
    async with engine.begin() as conn:
        await refresh_pair_counts(conn)
        stored = await load_pair_counts(conn)
    app = create_app(settings)
    async with LifespanManager(app):
        directory: TagDirectory = app.state.tag_directory
        async with engine.connect() as conn:
            resolved = await directory.resolve(conn, [], ["tag-0"])
    assert resolved.stats.pairs == stored
