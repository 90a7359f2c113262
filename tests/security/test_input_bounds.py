"""Free-text inputs beyond the findings, bounded the same way: each is refused with a typed
error before it reaches SQL or is echoed back, and deep literals never crash the server."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.security.conftest import World

RETAG = """mutation Retag($input: RetagContentInput!) {
  retagContent(input: $input) { item { id } errors { code field message } }
}"""


async def test_an_over_long_tag_value_is_refused_not_echoed(
    gql: GraphQLClient, world: World
) -> None:
    value = "t" * 10_000
    data = await gql.data(
        RETAG, {"input": {"id": world.public_id, "add": [value]}}, world.tokens["owner"]
    )
    (error,) = data["retagContent"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "add")
    assert value not in error["message"]


async def test_a_deep_literal_is_a_typed_error(gql: GraphQLClient, world: World) -> None:
    """graphql-core parses literals recursively: a literal nested as deep as the token
    limit allows must still be answered with a code, not a 500."""
    deep = "{a: " * 450 + "1" + "}" * 450
    fields = 'title: "t", contentType: "image", contentData: "/d", prompt: "p"'
    body = await gql.post(
        f"mutation {{ createContent(input: {{{fields}, metadata: {deep}}}) {{ item {{ id }} }} }}",
        token=world.tokens["owner"],
    )
    assert body["_status"] in (200, 400), body
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes <= {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}, body
