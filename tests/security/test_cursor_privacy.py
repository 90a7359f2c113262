"""Finding: cursors carried their payload in clear (`[1,"<digest>","NEWEST",<ts>,0,<id>]`)
and were not bound to the viewer: a cursor at someone's private item was accepted from
anyone. Cursors are sealed (AES-SIV) and open only for the viewer they were issued to."""

from __future__ import annotations

import base64

from tests.conftest import GraphQLClient
from tests.security.conftest import World

PAGE = """query Page($after: Cursor) {
  contentItems(first: 1, after: $after) { edges { cursor node { id } } }
}"""


async def _private_item_cursor(gql: GraphQLClient, world: World) -> str:
    data = await gql.data(PAGE, token=world.tokens["owner"])
    (edge,) = data["contentItems"]["edges"]
    assert edge["node"]["id"] == world.private_id
    cursor: str = edge["cursor"]
    return cursor


async def test_a_cursor_reveals_nothing_of_its_item(gql: GraphQLClient, world: World) -> None:
    cursor = await _private_item_cursor(gql, world)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    item_id = world.private_item.id
    for needle in (b"NEWEST", b'[1,"', item_id.to_bytes(8, "big")):  # none by chance
        assert needle not in raw


async def test_a_cursor_opens_only_for_its_viewer(gql: GraphQLClient, world: World) -> None:
    cursor = await _private_item_cursor(gql, world)
    assert "errors" not in await gql.post(PAGE, {"after": cursor}, world.tokens["owner"])
    for token in (None, world.tokens["other"], world.tokens["admin"]):
        body = await gql.post(PAGE, {"after": cursor}, token)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "issued to another viewer" in error["message"]
