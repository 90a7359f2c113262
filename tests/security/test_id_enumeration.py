"""Finding: `contentItem(id:)` answered null for exactly the private ids among sequential
database ids, so their count and ids leaked (never their content). Absent and private
answer alike, and a client's misses are budgeted: past the budget they are RATE_LIMITED,
so walking an id range is throttled per address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gallery_gql.api.global_id import item_global_id
from gallery_gql.app import create_app
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.security.conftest import World

BY_ID = "query ById($id: ID!) { contentItem(id: $id) { id title } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
BUDGET = 5


@pytest.fixture
async def probed(settings: Settings, world: World) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings.model_copy(update={"id_miss_limit": f"{BUDGET}/minute"}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield GraphQLClient(http)


async def _answer(gql: GraphQLClient, query: str, id_: str, token: str | None = None) -> object:
    body = await gql.post(query, {"id": id_}, token)
    if "errors" in body:
        return body["errors"][0]["extensions"]["code"]
    (value,) = body["data"].values()
    return value


async def test_private_and_absent_ids_answer_alike(probed: GraphQLClient, world: World) -> None:
    absent = item_global_id(ItemKey(world.private_item.source, 10**6))
    for query in (BY_ID, NODE):
        private = await probed.post(query, {"id": world.private_id})
        missing = await probed.post(query, {"id": absent})
        assert private.pop("_status") == missing.pop("_status") == 200
        assert private == missing


async def test_misses_past_the_budget_are_rate_limited(probed: GraphQLClient, world: World) -> None:
    source = world.private_item.source
    answers = [
        await _answer(probed, BY_ID, item_global_id(ItemKey(source, 10**6 + n)))
        for n in range(BUDGET)
    ]
    assert answers == [None] * BUDGET
    # The budget is spent: the private item's id and absent ids alike are refused ...
    assert await _answer(probed, BY_ID, world.private_id) == "RATE_LIMITED"
    assert await _answer(probed, NODE, item_global_id(ItemKey(source, 10**7))) == "RATE_LIMITED"
    # ... while what the client may see is still served, and to its owner the private item.
    found = await _answer(probed, BY_ID, world.public_id)
    assert isinstance(found, dict)
    assert found["id"] == world.public_id
    mine = await _answer(probed, BY_ID, world.private_id, world.tokens["owner"])
    assert isinstance(mine, dict)
    assert mine["id"] == world.private_id
