"""The peer's SQL function (our strategy, for PostGraphile to serve) pages exactly as the
plain-Python model does; served by PostGraphile (when `make peer-deps` has installed
it), both peer forms return the model's first page, and the load generator keeps to its
request bound."""

from __future__ import annotations

import random
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gallery_gql.cli import app
from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.http import cycle, load, post_query
from gallery_gql.ops.bench.peer_bodies import (
    function_body,
    function_next,
    function_page,
    generic_body,
    generic_next,
    generic_page,
    peer_token,
)
from gallery_gql.ops.bench.peer_server import postgraphile, unavailable
from gallery_gql.ops.bench.peer_sql import FUNCTION, VIEWER_CLAIM, install
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
    engine: AsyncEngine,
    keys: list[int],
    match_all: bool,
    exclude: list[int],
    size: int,
    *,
    rated: bool = False,
    viewer: UUID | None = None,
) -> list[tuple[str, int]]:
    """Every page in turn, each after the previous page's last row, as `viewer` (the claim
    PostGraphile sets from a verified JWT)."""
    walked: list[tuple[str, int]] = []
    after: dict[str, object] = {"at": None, "quality": None, "source": None, "id": None}
    async with engine.connect() as conn:
        if viewer is not None:
            await conn.execute(
                text(f"SELECT set_config('jwt.claims.{VIEWER_CLAIM}', :viewer, false)"),
                {"viewer": str(viewer)},
            )
        while True:
            rows = (
                await conn.execute(
                    text(
                        f"SELECT source, id, created_at, quality_score FROM {FUNCTION}("
                        " tag_keys => :tags, match_all => :all, exclude_keys => :exclude,"
                        " page_size => :size, top_rated => :rated, after_created_at => :at,"
                        " after_quality => :quality, after_source => :source,"
                        " after_item_id => :id)"
                    ),
                    {
                        "tags": keys,
                        "all": match_all,
                        "exclude": exclude,
                        "size": size,
                        "rated": rated,
                        **after,
                    },
                )
            ).all()
            walked += [(SOURCES[row.source], row.id) for row in rows]
            if len(rows) < size:
                return walked
            last = rows[-1]
            after = {
                "at": last.created_at,
                "quality": last.quality_score,
                "source": last.source,
                "id": last.id,
            }


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
@pytest.mark.parametrize("analyzed", [False, True], ids=["tag-walks", "item-walks"])
@pytest.mark.parametrize("sort", ["NEWEST", "TOP_RATED"])
async def test_function_pages_equal_the_model(
    engine: AsyncEngine, gallery: Gallery, size: int, analyzed: bool, sort: str
) -> None:
    """Unanalyzed tables have no size estimate, so ANY walks each tag and pages by rating
    read the bitmap; analyzed, common tags walk the item table (as `plan._branch`
    decides). Every other case is asked by a signed-in viewer, who also sees their own
    private items."""
    dataset, items, keys = gallery
    if analyzed:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE content_items, content_items_auto"))
            await conn.commit()
    for n, (tags, match, exclude) in enumerate(_cases(dataset.tags)):
        viewer = dataset.users[n % len(dataset.users)] if n % 2 else None
        query = ModelQuery(tuple(tags), match, tuple(exclude), viewer_id=viewer, sort=sort)
        got = await _walk(
            engine,
            [keys[t] for t in tags],
            match == "ALL",
            [keys[t] for t in exclude],
            size,
            rated=sort == "TOP_RATED",
            viewer=viewer,
        )
        assert got == expected(items, query), (tags, match, exclude, viewer)


async def test_install_is_idempotent(engine: AsyncEngine, gallery: Gallery) -> None:
    async with engine.begin() as conn:
        await install(conn)
    async with engine.connect() as conn:
        count = await conn.scalar(text(f"SELECT count(*) FROM {FUNCTION}()"))
    assert count == 25


@pytest.mark.skipif(unavailable() is not None, reason=f"PostGraphile: {unavailable()}")
async def test_postgraphile_serves_both_forms(database_url: str, gallery: Gallery) -> None:
    """Each case as the bench asks it, first and third page (followed by each form's
    cursor), by date and by rating, anonymous and signed in (a JWT PostGraphile verifies):
    both forms answer the model's page."""
    dataset, items, keys = gallery
    tag_ids = {key: str(tag) for tag, key in keys.items()}
    viewer = dataset.users[1]
    bodies = []
    with postgraphile(database_url, statement_timeout_ms=3000, workers=1) as server:
        signed_in = {"Authorization": f"Bearer {peer_token(str(viewer), server.jwt_secret)}"}
        async with httpx.AsyncClient(base_url=server.url.removesuffix("/graphql")) as client:
            for n, (tags, match, exclude) in enumerate(_cases(dataset.tags)):
                sort = (Sort.NEWEST, Sort.TOP_RATED)[n % 2]
                who, headers = (viewer, signed_in) if n % 3 == 0 else (None, {})
                query = QueryClass(
                    f"case {n}",
                    tuple(keys[t] for t in tags),
                    TagMatch(match),
                    tuple(keys[t] for t in exclude),
                    sort=sort,
                    size=10,
                )
                model = ModelQuery(
                    tuple(tags), match, tuple(exclude), viewer_id=who, sort=sort.value
                )
                want = expected(items, model)
                generic = generic_body(query, tag_ids, str(who) if who else None)
                function = function_body(query)
                for page in range(3):
                    answers = [
                        await post_query(client, generic, headers),
                        await post_query(client, function, headers),
                    ]
                    got = [generic_page(answers[0], sort, 10), function_page(answers[1])]
                    assert [[(s.name, i) for s, i in rows] for rows in got] == [
                        want[10 * page : 10 * page + 10]
                    ] * 2, (n, page)
                    bodies += [generic, function]
                    generic = generic_next(generic, answers[0], sort, 10)
                    function = function_next(function, answers[1])
        result = await load(server.url, cycle(bodies), 3, seconds=60, max_requests=12)
    assert (result.requests, result.errors) == (12, {})


def test_bench_refuses_a_peer_it_cannot_measure() -> None:
    result = CliRunner().invoke(app, ["bench", "--no-http", "--peer"])
    assert result.exit_code == 1
    assert "--peer: it is measured through HTTP" in result.stderr
