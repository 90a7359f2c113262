"""createContent, updateContent and deleteContent over GraphQL: happy paths, every error code
in `errors` (never top-level), nothing written on error, idempotent retries, and reads that
see the writes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id
from tests.api.mutations.calls import (
    BY_ID,
    CREATE,
    DELETE,
    UPDATE,
    Env,
    codes,
    create_item,
    ids_tagged,
    mutate,
    new_item,
    table_counts,
    tag_names,
)
from tests.conftest import GraphQLClient
from tests.integrity import integrity_problems

# -- create ------------------------------------------------------------------------------------


async def test_create_content_with_tags_by_id_global_id_and_name(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    tags = [
        env.tag(1),
        encode_global_id("Tag", env.tag(2)),
        "tag-3",
        "tag-3",  # repeats are dropped silently
        env.tag(1),
    ]
    item = await create_item(
        gql,
        env.owner,
        source="AUTO",
        tags=tags,
        qualityScore=0.75,
        metadata={"model": "sdxl", "steps": 30},
        pathThumbsAltRes={"512x512": "/t/512.png"},
    )
    assert tag_names(item) == ["tag-1", "tag-2", "tag-3"]
    assert (item["source"], item["version"], item["qualityScore"]) == ("AUTO", 1, 0.75)
    assert item["pathThumb"] == "/t/512.png"
    assert item["creator"]["databaseId"] == str(env.owner_id)
    assert item["id"] in await ids_tagged(gql, env.other, env.tag(2))
    assert await integrity_problems(engine) == []


async def test_create_content_errors_write_nothing(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    before = await table_counts(engine)
    payload = await mutate(gql, CREATE, new_item(), None)
    assert payload["item"] is None
    assert codes(payload) == [("UNAUTHENTICATED", None)]

    invalid = new_item(title="  ", contentType="gif", qualityScore=1.5, prompt="p" * 20_001)
    payload = await mutate(gql, CREATE, invalid, env.owner)
    assert payload["item"] is None
    assert sorted(codes(payload)) == [
        ("BAD_USER_INPUT", "contentType"),
        ("BAD_USER_INPUT", "prompt"),
        ("BAD_USER_INPUT", "qualityScore"),
        ("BAD_USER_INPUT", "title"),
    ]
    payload = await mutate(gql, CREATE, new_item(metadata=[1, 2]), env.owner)
    assert codes(payload) == [("BAD_USER_INPUT", "metadata")]

    ghost_id = encode_global_id("Tag", "00000000-0000-0000-0000-00000000dead")
    unknown = ["tag-1", "no-such-tag", ghost_id, "no-such-tag", "Tag-1"]
    payload = await mutate(gql, CREATE, new_item(tags=unknown), env.owner)
    assert payload["item"] is None
    (error,) = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "tags")
    assert error["values"] == ["no-such-tag", ghost_id, "Tag-1"]  # as given, each once
    assert await table_counts(engine) == before  # unknown tags were not created
    assert await integrity_problems(engine) == []


async def test_retried_create_returns_the_same_item(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    request = new_item(tags=["tag-1"], idempotencyKey="upload-42")
    first = await mutate(gql, CREATE, request, env.owner)
    before = await table_counts(engine)
    again = await mutate(gql, CREATE, request, env.owner)
    assert again["errors"] == []
    assert again["item"]["id"] == first["item"]["id"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert await table_counts(engine) == before  # one row, one key

    changed = await mutate(gql, CREATE, {**request, "title": "another"}, env.owner)
    assert changed["item"] is None
    assert codes(changed) == [("BAD_USER_INPUT", "idempotencyKey")]
    assert await table_counts(engine) == before

    theirs = await mutate(gql, CREATE, request, env.other)  # keys are per user
    assert not theirs["replayed"]
    assert theirs["item"]["id"] != first["item"]["id"]


# -- update and delete -------------------------------------------------------------------------


async def test_update_content(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    item = await create_item(gql, env.owner, tags=["tag-1"], pathThumb="/t.png")
    change = {
        "id": item["id"],
        "expectedVersion": 1,
        "title": "Renamed",
        "qualityScore": 0.9,
        "isPrivate": True,
        "pathThumb": None,
    }
    payload = await mutate(gql, UPDATE, change, env.owner)
    assert payload["errors"] == []
    updated = payload["item"]
    assert (updated["title"], updated["version"], updated["qualityScore"]) == ("Renamed", 2, 0.9)
    assert updated["isPrivate"]
    assert updated["pathThumb"] == "/data/cat.png"  # no thumbnail left: the content itself
    assert await integrity_problems(engine) == []  # junction sort keys and private counts
    assert (await gql.data(BY_ID, {"id": item["id"]}, env.other))["contentItem"] is None

    before = await table_counts(engine)
    stale = await mutate(gql, UPDATE, {**change, "title": "Again"}, env.owner)
    assert stale["errors"][0]["currentVersion"] == 2
    assert codes(stale) == [("CONFLICT", "expectedVersion")]
    cases = [
        ({"id": item["id"], "title": "x"}, env.other, [("NOT_FOUND", "id")]),  # private now
        ({"id": item["id"], "title": None}, env.owner, [("BAD_USER_INPUT", "title")]),
        ({"id": item["id"]}, env.owner, [("BAD_USER_INPUT", None)]),
        ({"id": item["id"], "contentType": "gif"}, env.owner, [("BAD_USER_INPUT", "contentType")]),
        ({"id": item["id"], "title": "x"}, None, [("UNAUTHENTICATED", None)]),
    ]
    for variables, token, expected in cases:
        payload = await mutate(gql, UPDATE, variables, token)
        assert payload["item"] is None
        assert codes(payload) == expected, variables
    public = await create_item(gql, env.owner)
    forbidden = await mutate(gql, UPDATE, {"id": public["id"], "title": "x"}, env.other)
    assert codes(forbidden) == [("FORBIDDEN", "id")]
    body = await gql.post(UPDATE, {"input": {"id": item["id"], "prompt": "new"}}, env.owner)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # immutable: no such field
    assert await table_counts(engine) == {
        **before,
        "content_items": before["content_items"] + 1,
        "versions": before["versions"] + 1,
    }


async def test_delete_content(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    item = await create_item(gql, env.owner, tags=["tag-1", "tag-2"])
    before = await table_counts(engine)
    for variables, token, expected in [
        ({"id": item["id"]}, env.other, [("FORBIDDEN", "id")]),
        ({"id": item["id"], "expectedVersion": 3}, env.owner, [("CONFLICT", "expectedVersion")]),
        ({"id": item["id"]}, None, [("UNAUTHENTICATED", None)]),
    ]:
        payload = await mutate(gql, DELETE, variables, token)
        assert payload["deletedId"] is None
        assert codes(payload) == expected
    assert await table_counts(engine) == before
    payload = await mutate(gql, DELETE, {"id": item["id"], "expectedVersion": 1}, env.owner)
    assert payload == {"deletedId": item["id"], "errors": []}
    after = await table_counts(engine)
    assert after["content_items"] == before["content_items"] - 1
    assert after["content_tags"] == before["content_tags"] - 2
    assert (await gql.data(BY_ID, {"id": item["id"]}, env.owner))["contentItem"] is None
    again = await mutate(gql, DELETE, {"id": item["id"]}, env.owner)
    assert codes(again) == [("NOT_FOUND", "id")]
    assert await integrity_problems(engine) == []
