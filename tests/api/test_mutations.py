"""Mutations over GraphQL: happy paths, every error code in `errors` (never top-level),
nothing written on error, idempotent retries, and reads that see the writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id, item_global_id
from gallery_gql.auth import mint_token
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.limits import MAX_BATCH, MAX_TAGS_PER_ITEM
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery
from tests.integrity import integrity_problems

ERRORS = "errors { code field message values currentVersion }"
ITEM = (
    "item { id databaseId source title version isPrivate qualityScore pathThumb: thumbnail "
    "tags { name } creator { databaseId } }"
)
CREATE = f"""mutation Create($input: CreateContentInput!) {{
  createContent(input: $input) {{ {ITEM} replayed {ERRORS} }}
}}"""
RETAG = f"""mutation Retag($input: RetagContentInput!) {{
  retagContent(input: $input) {{ {ITEM} version replayed {ERRORS} }}
}}"""
UPDATE = f"""mutation Update($input: UpdateContentInput!) {{
  updateContent(input: $input) {{ {ITEM} {ERRORS} }}
}}"""
DELETE = f"""mutation Delete($input: DeleteContentInput!) {{
  deleteContent(input: $input) {{ deletedId {ERRORS} }}
}}"""
BULK_CREATE = f"""mutation BulkCreate($input: BulkCreateContentInput!) {{
  bulkCreateContent(input: $input) {{
    count results {{ index replayed item {{ id title tags {{ name }} }} {ERRORS} }} {ERRORS}
  }}
}}"""
BULK_RETAG = f"""mutation BulkRetag($input: BulkRetagContentInput!) {{
  bulkRetagContent(input: $input) {{
    count results {{ index version item {{ id tags {{ name }} }} {ERRORS} }} {ERRORS}
  }}
}}"""
CREATE_TAG = f"""mutation CreateTag($input: CreateTagInput!) {{
  createTag(input: $input) {{ tag {{ name parents {{ name }} }} {ERRORS} }}
}}"""
ADD_PARENT = f"""mutation AddParent($input: TagParentInput!) {{
  addTagParent(input: $input) {{ tag {{ name parents {{ name }} }} parent {{ name }} {ERRORS} }}
}}"""
REMOVE_PARENT = f"""mutation RemoveParent($input: TagParentInput!) {{
  removeTagParent(input: $input) {{ tag {{ name parents {{ name }} }} {ERRORS} }}
}}"""
BY_TAGS = """query ByTags($tags: [ID!]) {
  contentItems(tags: $tags, first: 100) { edges { node { id } } }
}"""
BY_ID = "query ById($id: ID!) { contentItem(id: $id) { id title version } }"
BY_ID_TAGS = "query ById($id: ID!) { contentItem(id: $id) { id tags { name } } }"


@dataclass(frozen=True)
class Env:
    dataset: Dataset
    admin: str
    owner: str
    other: str
    owner_id: UUID

    def tag(self, n: int) -> str:
        return str(self.dataset.tags[n])


@pytest.fixture
async def env(engine: AsyncEngine, settings: Settings) -> Env:
    dataset = await build_gallery(engine, regular=10, auto=10)
    admin, owner, other = dataset.users[:3]
    return Env(
        dataset,
        mint_token(admin, settings),
        mint_token(owner, settings),
        mint_token(other, settings),
        owner,
    )


def _new(**fields: Any) -> dict[str, Any]:
    return {
        "title": "A cat",
        "contentType": "image",
        "contentData": "/data/cat.png",
        "prompt": "a cat on a mat",
        **fields,
    }


async def _mutate(
    gql: GraphQLClient, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """The mutation's payload; expected failures must never be top-level errors."""
    data = await gql.data(query, {"input": variables}, token)
    (payload,) = data.values()
    result: dict[str, Any] = payload
    return result


async def _create(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = await _mutate(gql, CREATE, _new(**fields), token)
    assert payload["errors"] == [], payload["errors"]
    item: dict[str, Any] = payload["item"]
    return item


def _codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


def _names(item: dict[str, Any]) -> list[str]:
    return [tag["name"] for tag in item["tags"]]


async def _state(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in (
                "content_items",
                "content_items_auto",
                "content_tags",
                "tags",
                "tag_parents",
                "idempotency_keys",
            )
        } | {
            "versions": int(
                (
                    await conn.execute(
                        text(
                            "SELECT (SELECT coalesce(sum(version), 0) FROM content_items) + "
                            "(SELECT coalesce(sum(version), 0) FROM content_items_auto)"
                        )
                    )
                ).scalar_one()
            )
        }


async def _ids_tagged(gql: GraphQLClient, token: str, tag: str) -> set[str]:
    data = await gql.data(BY_TAGS, {"tags": [tag]}, token)
    return {edge["node"]["id"] for edge in data["contentItems"]["edges"]}


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
    item = await _create(
        gql,
        env.owner,
        source="AUTO",
        tags=tags,
        qualityScore=0.75,
        metadata={"model": "sdxl", "steps": 30},
        pathThumbsAltRes={"512x512": "/t/512.png"},
    )
    assert _names(item) == ["tag-1", "tag-2", "tag-3"]
    assert (item["source"], item["version"], item["qualityScore"]) == ("AUTO", 1, 0.75)
    assert item["pathThumb"] == "/t/512.png"
    assert item["creator"]["databaseId"] == str(env.owner_id)
    assert item["id"] in await _ids_tagged(gql, env.other, env.tag(2))
    assert await integrity_problems(engine) == []


async def test_create_content_errors_write_nothing(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    before = await _state(engine)
    payload = await _mutate(gql, CREATE, _new(), None)
    assert payload["item"] is None
    assert _codes(payload) == [("UNAUTHENTICATED", None)]

    invalid = _new(title="  ", contentType="gif", qualityScore=1.5, prompt="p" * 20_001)
    payload = await _mutate(gql, CREATE, invalid, env.owner)
    assert payload["item"] is None
    assert sorted(_codes(payload)) == [
        ("BAD_USER_INPUT", "contentType"),
        ("BAD_USER_INPUT", "prompt"),
        ("BAD_USER_INPUT", "qualityScore"),
        ("BAD_USER_INPUT", "title"),
    ]
    payload = await _mutate(gql, CREATE, _new(metadata=[1, 2]), env.owner)
    assert _codes(payload) == [("BAD_USER_INPUT", "metadata")]

    ghost_id = encode_global_id("Tag", "00000000-0000-0000-0000-00000000dead")
    unknown = ["tag-1", "no-such-tag", ghost_id, "no-such-tag", "Tag-1"]
    payload = await _mutate(gql, CREATE, _new(tags=unknown), env.owner)
    assert payload["item"] is None
    (error,) = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "tags")
    assert error["values"] == ["no-such-tag", ghost_id, "Tag-1"]  # as given, each once
    assert await _state(engine) == before  # unknown tags were not created
    assert await integrity_problems(engine) == []


async def test_too_many_tags_is_an_error(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    names = [f"many-{n}" for n in range(MAX_TAGS_PER_ITEM + 1)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tags (id, name) SELECT gen_random_uuid(), unnest(CAST(:n AS text[]))"
            ),
            {"n": names},
        )
    before = await _state(engine)
    payload = await _mutate(gql, CREATE, _new(tags=names), env.owner)
    assert _codes(payload) == [("BAD_USER_INPUT", "tags")]
    assert await _state(engine) == before
    item = await _create(gql, env.owner, tags=names[:MAX_TAGS_PER_ITEM])
    retag = await _mutate(gql, RETAG, {"id": item["id"], "add": [names[-1]]}, env.owner)
    assert _codes(retag) == [("BAD_USER_INPUT", "tags")]


async def test_retried_create_returns_the_same_item(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    request = _new(tags=["tag-1"], idempotencyKey="upload-42")
    first = await _mutate(gql, CREATE, request, env.owner)
    before = await _state(engine)
    again = await _mutate(gql, CREATE, request, env.owner)
    assert again["errors"] == []
    assert again["item"]["id"] == first["item"]["id"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert await _state(engine) == before  # one row, one key

    changed = await _mutate(gql, CREATE, {**request, "title": "another"}, env.owner)
    assert changed["item"] is None
    assert _codes(changed) == [("BAD_USER_INPUT", "idempotencyKey")]
    assert await _state(engine) == before

    theirs = await _mutate(gql, CREATE, request, env.other)  # keys are per user
    assert not theirs["replayed"]
    assert theirs["item"]["id"] != first["item"]["id"]


# -- retag -------------------------------------------------------------------------------------


async def test_retag_moves_the_item_between_tag_queries(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    item = await _create(gql, env.owner, tags=["tag-1", "tag-2"])
    payload = await _mutate(
        gql,
        RETAG,
        {"id": item["id"], "set": ["tag-3", env.tag(4)], "expectedVersion": 1},
        env.owner,
    )
    assert payload["errors"] == []
    assert payload["version"] == payload["item"]["version"] == 2
    assert _names(payload["item"]) == ["tag-3", "tag-4"]
    assert item["id"] in await _ids_tagged(gql, env.other, env.tag(3))
    assert item["id"] not in await _ids_tagged(gql, env.other, env.tag(1))

    payload = await _mutate(
        gql, RETAG, {"id": item["id"], "add": ["tag-5"], "remove": ["tag-3"]}, env.owner
    )
    assert _names(payload["item"]) == ["tag-4", "tag-5"]
    assert payload["version"] == 3
    assert item["id"] not in await _ids_tagged(gql, env.other, env.tag(3))
    assert item["id"] in await _ids_tagged(gql, env.other, env.tag(5))
    assert await integrity_problems(engine) == []


async def test_retag_errors(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    mine = await _create(gql, env.owner, tags=["tag-1"])
    private = await _create(gql, env.owner, tags=["tag-1"], isPrivate=True)
    before = await _state(engine)
    cases: list[tuple[dict[str, Any], str | None, list[tuple[str, str | None]]]] = [
        (
            {"id": mine["id"], "set": ["tag-2"], "add": ["tag-3"]},
            env.owner,
            [("BAD_USER_INPUT", "set")],
        ),
        ({"id": mine["id"]}, env.owner, [("BAD_USER_INPUT", "set")]),
        ({"id": mine["id"], "set": ["tag-2"]}, None, [("UNAUTHENTICATED", None)]),
        ({"id": mine["id"], "set": ["tag-2"]}, env.other, [("FORBIDDEN", "id")]),
        ({"id": private["id"], "set": ["tag-2"]}, env.other, [("NOT_FOUND", "id")]),
        (
            {"id": item_global_id(ItemKey(Source.AUTO, 99_999)), "set": []},
            env.owner,
            [("NOT_FOUND", "id")],
        ),
        ({"id": "not-an-id", "set": []}, env.owner, [("BAD_USER_INPUT", "id")]),
        (
            {"id": encode_global_id("Tag", env.tag(1)), "set": []},
            env.owner,
            [("BAD_USER_INPUT", "id")],
        ),
        ({"id": mine["id"], "remove": ["nope"]}, env.owner, [("BAD_USER_INPUT", "remove")]),
    ]
    for variables, token, expected in cases:
        payload = await _mutate(gql, RETAG, variables, token)
        assert payload["item"] is None, variables
        assert payload["version"] is None, variables
        assert _codes(payload) == expected, variables
    stale = await _mutate(
        gql, RETAG, {"id": mine["id"], "set": ["tag-2"], "expectedVersion": 7}, env.owner
    )
    (error,) = stale["errors"]
    assert (error["code"], error["field"], error["currentVersion"]) == (
        "CONFLICT",
        "expectedVersion",
        1,
    )
    assert await _state(engine) == before
    admin = await _mutate(gql, RETAG, {"id": private["id"], "add": ["tag-2"]}, env.admin)
    # An admin may change someone's private item, but the payload never shows it.
    assert admin["errors"] == []
    assert admin["item"] is None
    assert admin["version"] == private["version"] + 1
    owner_view = await gql.data(BY_ID_TAGS, {"id": private["id"]}, env.owner)
    assert _names(owner_view["contentItem"]) == ["tag-1", "tag-2"]
    assert await integrity_problems(engine) == []


# -- update and delete -------------------------------------------------------------------------


async def test_update_content(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    item = await _create(gql, env.owner, tags=["tag-1"], pathThumb="/t.png")
    change = {
        "id": item["id"],
        "expectedVersion": 1,
        "title": "Renamed",
        "qualityScore": 0.9,
        "isPrivate": True,
        "pathThumb": None,
    }
    payload = await _mutate(gql, UPDATE, change, env.owner)
    assert payload["errors"] == []
    updated = payload["item"]
    assert (updated["title"], updated["version"], updated["qualityScore"]) == ("Renamed", 2, 0.9)
    assert updated["isPrivate"]
    assert updated["pathThumb"] == "/data/cat.png"  # no thumbnail left: the content itself
    assert await integrity_problems(engine) == []  # junction sort keys and private counts
    assert (await gql.data(BY_ID, {"id": item["id"]}, env.other))["contentItem"] is None

    before = await _state(engine)
    stale = await _mutate(gql, UPDATE, {**change, "title": "Again"}, env.owner)
    assert stale["errors"][0]["currentVersion"] == 2
    assert _codes(stale) == [("CONFLICT", "expectedVersion")]
    cases = [
        ({"id": item["id"], "title": "x"}, env.other, [("NOT_FOUND", "id")]),  # private now
        ({"id": item["id"], "title": None}, env.owner, [("BAD_USER_INPUT", "title")]),
        ({"id": item["id"]}, env.owner, [("BAD_USER_INPUT", None)]),
        ({"id": item["id"], "contentType": "gif"}, env.owner, [("BAD_USER_INPUT", "contentType")]),
        ({"id": item["id"], "title": "x"}, None, [("UNAUTHENTICATED", None)]),
    ]
    for variables, token, expected in cases:
        payload = await _mutate(gql, UPDATE, variables, token)
        assert payload["item"] is None
        assert _codes(payload) == expected, variables
    public = await _create(gql, env.owner)
    forbidden = await _mutate(gql, UPDATE, {"id": public["id"], "title": "x"}, env.other)
    assert _codes(forbidden) == [("FORBIDDEN", "id")]
    body = await gql.post(UPDATE, {"input": {"id": item["id"], "prompt": "new"}}, env.owner)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # immutable: no such field
    assert await _state(engine) == {
        **before,
        "content_items": before["content_items"] + 1,
        "versions": before["versions"] + 1,
    }


async def test_delete_content(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    item = await _create(gql, env.owner, tags=["tag-1", "tag-2"])
    before = await _state(engine)
    for variables, token, expected in [
        ({"id": item["id"]}, env.other, [("FORBIDDEN", "id")]),
        ({"id": item["id"], "expectedVersion": 3}, env.owner, [("CONFLICT", "expectedVersion")]),
        ({"id": item["id"]}, None, [("UNAUTHENTICATED", None)]),
    ]:
        payload = await _mutate(gql, DELETE, variables, token)
        assert payload["deletedId"] is None
        assert _codes(payload) == expected
    assert await _state(engine) == before
    payload = await _mutate(gql, DELETE, {"id": item["id"], "expectedVersion": 1}, env.owner)
    assert payload == {"deletedId": item["id"], "errors": []}
    after = await _state(engine)
    assert after["content_items"] == before["content_items"] - 1
    assert after["content_tags"] == before["content_tags"] - 2
    assert (await gql.data(BY_ID, {"id": item["id"]}, env.owner))["contentItem"] is None
    again = await _mutate(gql, DELETE, {"id": item["id"]}, env.owner)
    assert _codes(again) == [("NOT_FOUND", "id")]
    assert await integrity_problems(engine) == []


# -- bulk --------------------------------------------------------------------------------------


async def test_bulk_create_is_all_or_nothing(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    items = [_new(title=f"item {n}", tags=[f"tag-{n}"], source="AUTO") for n in range(4)]
    before = await _state(engine)
    bad = [*items[:1], _new(tags=["missing"]), items[2], _new(qualityScore=-1)]
    payload = await _mutate(gql, BULK_CREATE, {"items": bad}, env.owner)
    assert payload["count"] == 0
    assert payload["errors"] == []
    assert [r["index"] for r in payload["results"]] == [0, 1, 2, 3]
    assert [r["item"] for r in payload["results"]] == [None] * 4
    assert [_codes(r) for r in payload["results"]] == [
        [],
        [("BAD_USER_INPUT", "tags")],
        [],
        [("BAD_USER_INPUT", "qualityScore")],
    ]
    assert await _state(engine) == before

    payload = await _mutate(gql, BULK_CREATE, {"items": items}, env.owner)
    assert payload["count"] == 4
    assert [r["item"]["title"] for r in payload["results"]] == [f"item {n}" for n in range(4)]
    assert [_names(r["item"]) for r in payload["results"]] == [[f"tag-{n}"] for n in range(4)]
    assert await integrity_problems(engine) == []

    too_many = await _mutate(gql, BULK_CREATE, {"items": [_new()] * (MAX_BATCH + 1)}, env.owner)
    assert (too_many["count"], too_many["results"]) == (0, [])
    assert _codes(too_many) == [("BAD_USER_INPUT", "items")]
    unauthenticated = await _mutate(gql, BULK_CREATE, {"items": items}, None)
    assert _codes(unauthenticated) == [("UNAUTHENTICATED", None)]


async def test_bulk_retag(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    created = await _mutate(
        gql,
        BULK_CREATE,
        {"items": [_new(title=f"{n}", tags=["tag-0"]) for n in range(5)]},
        env.owner,
    )
    ids = [r["item"]["id"] for r in created["results"]]
    before = await _state(engine)
    rejected = await _mutate(
        gql,
        BULK_RETAG,
        {
            "items": [
                {"id": ids[0], "add": ["tag-1"]},
                {"id": ids[1], "set": ["tag-2"], "expectedVersion": 5},
                {"id": ids[0], "add": ["tag-3"]},
            ]
        },
        env.owner,
    )
    assert rejected["count"] == 0
    assert [_codes(r) for r in rejected["results"]] == [
        [],
        [("CONFLICT", "expectedVersion")],
        [("BAD_USER_INPUT", "id")],
    ]
    assert await _state(engine) == before
    changes = [{"id": ids[n], "set": [f"tag-{n + 1}"], "expectedVersion": 1} for n in range(5)]
    payload = await _mutate(gql, BULK_RETAG, {"items": changes[::-1]}, env.owner)
    assert payload["count"] == 5
    assert [r["version"] for r in payload["results"]] == [2] * 5
    assert [_names(r["item"]) for r in payload["results"]] == [
        [f"tag-{n}"] for n in range(5, 0, -1)
    ]
    assert await integrity_problems(engine) == []


# -- tags --------------------------------------------------------------------------------------


async def test_tag_admin(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    for token, code in [(None, "UNAUTHENTICATED"), (env.owner, "FORBIDDEN")]:
        payload = await _mutate(gql, CREATE_TAG, {"name": "nope"}, token)
        assert payload["tag"] is None
        assert [e["code"] for e in payload["errors"]] == [code]
        edge = await _mutate(gql, ADD_PARENT, {"tag": "tag-1", "parent": "tag-0"}, token)
        assert [e["code"] for e in edge["errors"]] == [code]

    created = await _mutate(
        gql,
        CREATE_TAG,
        {"name": "animals", "parents": [encode_global_id("Tag", env.tag(0))]},
        env.admin,
    )
    assert created == {"tag": {"name": "animals", "parents": [{"name": "tag-0"}]}, "errors": []}
    before = await _state(engine)
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"name": "animals"}, [("CONFLICT", "name")]),
        ({"name": "tag-1"}, [("CONFLICT", "name")]),
        ({"name": " padded"}, [("BAD_USER_INPUT", "name")]),
        ({"name": env.tag(1)}, [("BAD_USER_INPUT", "name")]),
        ({"name": "x", "parents": ["ghost", "tag-1"]}, [("BAD_USER_INPUT", "parents")]),
    ]
    for variables, expected in cases:
        payload = await _mutate(gql, CREATE_TAG, variables, env.admin)
        assert payload["tag"] is None
        assert _codes(payload) == expected, variables
    for variables, expected in [
        ({"tag": "tag-0", "parent": "animals"}, [("CONFLICT", "parent")]),  # a cycle
        ({"tag": "animals", "parent": "animals"}, [("CONFLICT", "parent")]),
        ({"tag": "ghost", "parent": "animals"}, [("BAD_USER_INPUT", "tag")]),
        ({"tag": "animals", "parent": "ghost"}, [("BAD_USER_INPUT", "parent")]),
    ]:
        payload = await _mutate(gql, ADD_PARENT, variables, env.admin)
        assert _codes(payload) == expected, variables
    missing = await _mutate(gql, REMOVE_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert _codes(missing) == [("NOT_FOUND", "parent")]
    assert await _state(engine) == before

    added = await _mutate(gql, ADD_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert added["tag"]["parents"] == [{"name": "tag-0"}, {"name": "tag-5"}]
    again = await _mutate(gql, ADD_PARENT, {"tag": "animals", "parent": "tag-5"}, env.admin)
    assert again["errors"] == []
    removed = await _mutate(gql, REMOVE_PARENT, {"tag": "animals", "parent": "tag-0"}, env.admin)
    assert removed == {"tag": {"name": "animals", "parents": [{"name": "tag-5"}]}, "errors": []}
    item = await _create(gql, env.owner, tags=["animals"])  # usable at once
    assert _names(item) == ["animals"]
