"""Finding: the cost limit counted objects, not bytes: a 1.5 KB anonymous query returned
34.5 MiB (15 aliases of 30 items with 20k-character prompts and 62 KB metadata). The size
of a response is bounded with a clear error code, large fields weigh in the cost, and stored
metadata is bounded."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.writes.limits import MAX_METADATA_BYTES, MAX_PROMPT_LENGTH
from gallery_gql.settings import Settings
from tests.factories import add_items, build_gallery, item_row, sync_derived

ITEMS = 30
MAX_RESPONSE = 4 * 1024 * 1024


def _aliased(aliases: int, first: int) -> str:
    fields = "edges { node { id prompt metadata } }"
    body = " ".join(f"a{n}: contentItems(first: {first}) {{ {fields} }}" for n in range(aliases))
    return "{ " + body + " }"


@pytest.fixture
async def big_items(engine: AsyncEngine) -> None:
    dataset = await build_gallery(engine, regular=0, auto=0)
    rng = random.Random(1)
    rows = []
    for _ in range(ITEMS):
        row = item_row(rng, dataset, [0.0] * len(dataset.tags))
        row.update(
            is_private=False,
            prompt="p" * MAX_PROMPT_LENGTH,
            item_metadata={"blob": "m" * (MAX_METADATA_BYTES - 100)},
        )
        rows.append(row)
    await add_items(engine, Source.AUTO, rows)
    await sync_derived(engine)


@pytest.fixture
async def http(settings: Settings, big_items: None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"max_response_bytes": MAX_RESPONSE}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _post(http: httpx.AsyncClient, query: str) -> tuple[httpx.Response, dict[str, Any]]:
    response = await http.post("/graphql", json={"query": query})
    body: dict[str, Any] = response.json()
    return response, body


async def test_an_amplified_response_is_refused_with_a_code(http: httpx.AsyncClient) -> None:
    query = _aliased(15, ITEMS)
    assert len(query) < 1_600
    response, body = await _post(http, query)
    assert len(response.content) < 2_000
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE", "maxBytes": MAX_RESPONSE}


async def test_large_fields_weigh_in_the_query_cost(http: httpx.AsyncClient) -> None:
    _, body = await _post(http, _aliased(15, 100))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"]


async def test_a_page_of_large_items_within_the_bound_is_served(
    http: httpx.AsyncClient,
) -> None:
    response, body = await _post(http, _aliased(1, ITEMS))
    assert "errors" not in body
    assert len(body["data"]["a0"]["edges"]) == ITEMS
    assert len(response.content) > ITEMS * MAX_PROMPT_LENGTH  # the large fields, whole
