"""Finding: create/update accepted `metadata` nested ~250 deep; listing it then failed
with a recursion error (HTTP 500, connection reset) for every client that listed it.
Writes refuse it past 32 levels, and serving a stored value can never fail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.json_depth import MAX_METADATA_DEPTH, json_depth
from tests.conftest import GraphQLClient
from tests.security.conftest import World

CREATE = """mutation Create($input: CreateContentInput!) {
  createContent(input: $input) { item { id metadata } errors { code field message } }
}"""
UPDATE = """mutation Update($input: UpdateContentInput!) {
  updateContent(input: $input) { item { id } errors { code field message } }
}"""
LIST = """query List($tags: [ID!]) {
  contentItems(tags: $tags) { edges { node { id title metadata } } }
}"""


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _new(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "deep",
        "contentType": "image",
        "contentData": "/data/deep.png",
        "prompt": "deep",
        "metadata": metadata,
    }


async def test_metadata_deeper_than_the_bound_is_refused(gql: GraphQLClient, world: World) -> None:
    token = world.tokens["owner"]
    for depth in (MAX_METADATA_DEPTH + 1, 250, 900):
        data = await gql.data(CREATE, {"input": _new(_nested(depth))}, token)
        payload = data["createContent"]
        assert payload["item"] is None
        (error,) = payload["errors"]
        assert error["code"] == "BAD_USER_INPUT"
        assert error["field"] == "metadata"
        assert f"at most {MAX_METADATA_DEPTH} levels" in error["message"]
    data = await gql.data(
        UPDATE,
        {"input": {"id": world.public_id, "expectedVersion": 1, "metadata": _nested(250)}},
        token,
    )
    assert data["updateContent"]["errors"][0]["field"] == "metadata"


async def test_metadata_at_the_bound_round_trips(gql: GraphQLClient, world: World) -> None:
    value = _nested(MAX_METADATA_DEPTH)
    data = await gql.data(CREATE, {"input": _new(value)}, world.tokens["owner"])
    assert data["createContent"]["errors"] == []
    assert data["createContent"]["item"]["metadata"] == value


async def test_a_deep_stored_value_is_served_cut_not_failed(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    """Stored before writes were bounded (or by another writer): the page is served."""
    table = CONTENT_TABLES[world.public_item.source]
    async with engine.begin() as conn:
        await conn.execute(
            update(table)
            .where(table.c.id == world.public_item.id)
            .values(item_metadata=_nested(250))
        )
    body = await gql.post(LIST, {"tags": [str(world.marked_tag)]})
    assert body["_status"] == 200
    assert "errors" not in body, body.get("errors")
    nodes = [edge["node"] for edge in body["data"]["contentItems"]["edges"]]
    (served,) = [node["metadata"] for node in nodes if node["id"] == world.public_id]
    assert json_depth(served) == MAX_METADATA_DEPTH
    assert served["a"]["a"]["a"] is not None
