"""Tag administration over GraphQL (createTag, addTagParent, removeTagParent): admins only,
names and cycles refused with their codes, nothing written on error."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id
from tests.api.mutations.calls import (
    ADD_PARENT,
    CREATE_TAG,
    REMOVE_PARENT,
    Env,
    codes,
    create_item,
    mutate,
    table_counts,
    tag_names,
)
from tests.conftest import GraphQLClient


async def test_tag_admin(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    for token, code in [(None, "UNAUTHENTICATED"), (env.owner, "FORBIDDEN")]:
        payload = await mutate(gql, CREATE_TAG, {"name": "nope"}, token)
        assert payload["tag"] is None
        assert [e["code"] for e in payload["errors"]] == [code]
        edge = await mutate(gql, ADD_PARENT, {"tag": "tag-1", "parent": "tag-0"}, token)
        assert [e["code"] for e in edge["errors"]] == [code]

    created = await mutate(
        gql,
        CREATE_TAG,
        {"name": "animals", "parents": [encode_global_id("Tag", env.tag(0))]},
        env.admin,
    )
    assert created == {"tag": {"name": "animals", "parents": [{"name": "tag-0"}]}, "errors": []}
    before = await table_counts(engine)
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": "animals"}, [("CONFLICT", "name")]),
        ({"name": "tag-1"}, [("CONFLICT", "name")]),
        ({"name": " padded"}, [("BAD_USER_INPUT", "name")]),
        ({"name": env.tag(1)}, [("BAD_USER_INPUT", "name")]),
        ({"name": "x", "parents": ["ghost", "tag-1"]}, [("BAD_USER_INPUT", "parents")]),
    ]
    for variables, expected in cases:
        payload = await mutate(gql, CREATE_TAG, variables, env.admin)
        assert payload["tag"] is None
        assert codes(payload) == expected, variables
    for variables, expected in [
        ({"tag": "tag-0", "parent": "animals"}, [("CONFLICT", "parent")]),  # a cycle
        ({"tag": "animals", "parent": "animals"}, [("CONFLICT", "parent")]),
        ({"tag": "ghost", "parent": "animals"}, [("BAD_USER_INPUT", "tag")]),
        ({"tag": "animals", "parent": "ghost"}, [("BAD_USER_INPUT", "parent")]),
    ]:
        payload = await mutate(gql, ADD_PARENT, variables, env.admin)
        assert codes(payload) == expected, variables
    missing = await mutate(gql, REMOVE_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert codes(missing) == [("NOT_FOUND", "parent")]
    assert await table_counts(engine) == before

    added = await mutate(gql, ADD_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert added["tag"]["parents"] == [{"name": "tag-0"}, {"name": "tag-5"}]
    again = await mutate(gql, ADD_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert again["errors"] == []
    removed = await mutate(gql, REMOVE_PARENT, {"tag": "animals", "parent": "tag-0"}, env.admin)
    assert removed == {"tag": {"name": "animals", "parents": [{"name": "tag-5"}]}, "errors": []}
    item = await create_item(gql, env.owner, tags=["animals"])  # usable at once
    assert tag_names(item) == ["animals"]
