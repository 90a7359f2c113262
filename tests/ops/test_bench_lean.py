"""The lean REST reference endpoint (ops/bench/lean_rest.py) answers the plain-Python
model's first page for every tag filter and order, and refuses bad input with a 400."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.ops.bench.lean_rest import DATABASE_URL_ENV, LeanRest
from tests.factories import Dataset, build_gallery
from tests.model import ModelItem, ModelQuery, expected, load_items

SOURCES = {0: "REGULAR", 1: "AUTO"}
Lean = tuple[httpx.AsyncClient, Dataset, list[ModelItem]]


@pytest.fixture
async def lean(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Lean]:
    dataset = await build_gallery(engine)
    plain = make_url(database_url).set(drivername="postgresql")
    monkeypatch.setenv(DATABASE_URL_ENV, plain.render_as_string(hide_password=False))
    app = LeanRest()
    async with LifespanManager(app) as manager:  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://lean") as client:
            yield client, dataset, await load_items(engine)


def _ids(tags: list[UUID]) -> str:
    return ",".join(str(tag) for tag in tags)


async def test_first_pages_equal_the_model(
    lean: Lean,
) -> None:
    client, dataset, items = lean
    tags = dataset.tags  # by descending frequency: 0 on ~90% of items, 9 on none
    cases = [
        ([], "ANY", []),
        ([tags[8]], "ANY", []),
        ([tags[0], tags[3]], "ALL", []),
        ([tags[2], tags[6]], "ANY", [tags[1]]),
        ([tags[9]], "ANY", []),
    ]
    for wanted, match, exclude in cases:
        for sort in ("NEWEST", "TOP_RATED"):
            params = {"match": match.lower(), "sort": sort.lower(), "first": "10"}
            if wanted:
                params["tags"] = _ids(wanted)
            if exclude:
                params["exclude"] = _ids(exclude)
            response = await client.get("/items", params=params)
            assert response.status_code == 200
            got = [(SOURCES[item["source"]], item["id"]) for item in response.json()["items"]]
            model = ModelQuery(tuple(wanted), match, tuple(exclude), sort=sort)
            assert got == expected(items, model)[:10], (wanted, match, exclude, sort)


@pytest.mark.parametrize(
    "query",
    [
        "tags=nope",
        "first=0",
        "first=101",
        "first=x",
        "match=some",
        "sort=oldest",
        "tags=" + ",".join(["00000000-0000-0000-0000-000000000001"] * 21),
    ],
)
async def test_bad_input_is_refused(lean: Lean, query: str) -> None:
    client, _, _ = lean
    response = await client.get(f"/items?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
