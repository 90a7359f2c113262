"""The peer's SQL function (our strategy, for PostGraphile to serve) pages exactly as the
plain-Python model does; served by PostGraphile (when `make peer-deps` has installed
it), both peer forms return the model's first page, and the load generator keeps to its
request bound."""

from __future__ import annotations

import random
from datetime import datetime
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gallery_gql.cli import app
from gallery_gql.gallery.query.filters import TagMatch
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.http import cycle, load, post_query
from gallery_gql.ops.bench.peer import function_body, function_page, generic_body, generic_page
from gallery_gql.ops.bench.peer_server import postgraphile, unavailable
from gallery_gql.ops.bench.peer_sql import FUNCTION, install
from tests.factories import Dataset, build_gallery
from tests.model import ModelItem, ModelQuery, expected, load_items

SOURCES = {0: "REGULAR", 1: "AUTO"}
Gallery = tuple[Dataset, list[ModelItem], dict[UUID, int]]


@pytest.fixture
async def gallery(engine: AsyncEngine) -> Gallery:
    dataset = await build_gallery(engine)
    async with engine.begin() as conn:
        await install(conn)
        keys = {
            row.id: row.tag_key for row in await conn.execute(text("SELECT id, tag_key FROM tags"))
        }
    return dataset, await load_items(engine), keys


async def _walk(
    engine: AsyncEngine, keys: list[int], match_all: bool, exclude: list[int], size: int
) -> list[tuple[str, int]]:
    """Every page in turn, each after the previous page's last row."""
    walked: list[tuple[str, int]] = []
    after: tuple[datetime, int, int] | None = None
    async with engine.connect() as conn:
        while True:
            rows = (
                await conn.execute(
                    text(
                        f"SELECT source, id, created_at FROM {FUNCTION}(:tags, :all, :exclude,"
                        " :size, :at, :source, :id)"
                    ),
                    {
                        "tags": keys,
                        "all": match_all,
                        "exclude": exclude,
                        "size": size,
                        "at": after[0] if after else None,
                        "source": after[1] if after else None,
                        "id": after[2] if after else None,
                    },
                )
            ).all()
            walked += [(SOURCES[row.source], row.id) for row in rows]
            if len(rows) < size:
                return walked
            after = (rows[-1].created_at, rows[-1].source, rows[-1].id)


def _cases(tags: list[UUID]) -> list[tuple[list[UUID], str, list[UUID]]]:
    """Tags by descending frequency in the dataset: 0 on ~90% of items, 9 on none."""
    common, mid, rare, never = tags[0], tags[3], tags[8], tags[9]
    fixed = [
        ([], "ANY", []),
        ([], "ANY", [mid]),
        ([common], "ANY", []),
        ([rare], "ANY", []),
        ([never], "ANY", []),
        ([common, mid], "ALL", []),
        ([common, tags[1], rare], "ALL", []),
        ([rare, never], "ALL", []),
        ([common, tags[2], tags[6]], "ANY", []),
        ([common, mid], "ANY", [tags[1]]),
        ([common, tags[1]], "ALL", [tags[5]]),
        ([common, mid], "ALL", [mid]),  # an excluded tag required: nothing
        ([mid], "ANY", [mid]),  # every tag excluded: nothing
        ([mid, mid], "ALL", []),  # a repeated tag counts once
    ]
    rng = random.Random(3)
    drawn = [
        (
            rng.sample(tags, rng.randint(1, 4)),
            rng.choice(["ANY", "ALL"]),
            rng.sample(tags, rng.randint(0, 2)),
        )
        for _ in range(12)
    ]
    return fixed + drawn


@pytest.mark.parametrize("size", [4, 25])
@pytest.mark.parametrize("analyzed", [False, True], ids=["tag-walks", "item-walk-for-any"])
async def test_function_pages_equal_the_model(
    engine: AsyncEngine, gallery: Gallery, size: int, analyzed: bool
) -> None:
    """Unanalyzed tables have no size estimate, so ANY walks each tag; analyzed, ANY of
    common tags walks the item table (as `strategies.walks_items_for_any` decides)."""
    dataset, items, keys = gallery
    if analyzed:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE content_items, content_items_auto"))
            await conn.commit()
    for tags, match, exclude in _cases(dataset.tags):
        want = expected(items, ModelQuery(tuple(tags), match, tuple(exclude)))
        got = await _walk(
            engine, [keys[t] for t in tags], match == "ALL", [keys[t] for t in exclude], size
        )
        assert got == want, (tags, match, exclude)


async def test_install_is_idempotent(engine: AsyncEngine, gallery: Gallery) -> None:
    async with engine.begin() as conn:
        await install(conn)
    async with engine.connect() as conn:
        count = await conn.scalar(text(f"SELECT count(*) FROM {FUNCTION}()"))
    assert count == 25


@pytest.mark.skipif(unavailable() is not None, reason=f"PostGraphile: {unavailable()}")
async def test_postgraphile_serves_both_forms(database_url: str, gallery: Gallery) -> None:
    dataset, items, keys = gallery
    tag_ids = {key: str(tag) for tag, key in keys.items()}
    bodies = []
    with postgraphile(database_url, statement_timeout_ms=3000, workers=1) as server:
        async with httpx.AsyncClient(base_url=server.url.removesuffix("/graphql")) as client:
            for n, (tags, match, exclude) in enumerate(_cases(dataset.tags)):
                query = QueryClass(
                    f"case {n}",
                    tuple(keys[t] for t in tags),
                    TagMatch(match),
                    tuple(keys[t] for t in exclude),
                    size=10,
                )
                want = expected(items, ModelQuery(tuple(tags), match, tuple(exclude)))[:10]
                generic, function = generic_body(query, tag_ids), function_body(query)
                got = [
                    generic_page(await post_query(client, generic), 10),
                    function_page(await post_query(client, function)),
                ]
                assert [[(s.name, i) for s, i in page] for page in got] == [want, want], n
                bodies += [generic, function]
        result = await load(server.url, cycle(bodies), 3, seconds=60, max_requests=12)
    assert (result.requests, result.errors) == (12, {})


def test_bench_refuses_a_peer_it_cannot_measure() -> None:
    result = CliRunner().invoke(app, ["bench", "--no-http", "--peer"])
    assert result.exit_code == 1
    assert "--peer: it is measured through HTTP" in result.stderr
