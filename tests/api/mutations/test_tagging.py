"""retagContent and the bulk mutations (bulkCreateContent, bulkRetagContent) over GraphQL:
every error code in `errors`, nothing written on error (a bulk call is all or nothing), and
tag queries that see the new tags at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id, item_global_id
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.limits import MAX_BATCH, MAX_TAGS_PER_ITEM
from tests.api.mutations.calls import (
    BULK_CREATE,
    BULK_RETAG,
    BY_ID_TAGS,
    CREATE,
    RETAG,
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


async def test_too_many_tags_is_an_error(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    names = [f"many-{n}" for n in range(MAX_TAGS_PER_ITEM + 1)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tags (id, name) SELECT gen_random_uuid(), unnest(CAST(:n AS text[]))"
            ),
            {"n": names},
        )
    before = await table_counts(engine)
    payload = await mutate(gql, CREATE, new_item(tags=names), env.owner)
    assert codes(payload) == [("BAD_USER_INPUT", "tags")]
    assert await table_counts(engine) == before
    item = await create_item(gql, env.owner, tags=names[:MAX_TAGS_PER_ITEM])
    retag = await mutate(gql, RETAG, {"id": item["id"], "add": [names[-1]]}, env.owner)
    assert codes(retag) == [("BAD_USER_INPUT", "tags")]


# -- retag -------------------------------------------------------------------------------------


async def test_retag_moves_the_item_between_tag_queries(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    item = await create_item(gql, env.owner, tags=["tag-1", "tag-2"])
    payload = await mutate(
        gql,
        RETAG,
        {"id": item["id"], "set": ["tag-3", env.tag(4)], "expectedVersion": 1},
        env.owner,
    )
    assert payload["errors"] == []
    assert payload["version"] == payload["item"]["version"] == 2
    assert tag_names(payload["item"]) == ["tag-3", "tag-4"]
    assert item["id"] in await ids_tagged(gql, env.other, env.tag(3))
    assert item["id"] not in await ids_tagged(gql, env.other, env.tag(1))

    payload = await mutate(
        gql, RETAG, {"id": item["id"], "add": ["tag-5"], "remove": ["tag-3"]}, env.owner
    )
    assert tag_names(payload["item"]) == ["tag-4", "tag-5"]
    assert payload["version"] == 3
    assert item["id"] not in await ids_tagged(gql, env.other, env.tag(3))
    assert item["id"] in await ids_tagged(gql, env.other, env.tag(5))
    assert await integrity_problems(engine) == []


async def test_retag_errors(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    mine = await create_item(gql, env.owner, tags=["tag-1"])
    private = await create_item(gql, env.owner, tags=["tag-1"], isPrivate=True)
    before = await table_counts(engine)
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
        payload = await mutate(gql, RETAG, variables, token)
        assert payload["item"] is None, variables
        assert payload["version"] is None, variables
        assert codes(payload) == expected, variables
    stale = await mutate(
        gql, RETAG, {"id": mine["id"], "set": ["tag-2"], "expectedVersion": 7}, env.owner
    )
    (error,) = stale["errors"]
    assert (error["code"], error["field"], error["currentVersion"]) == (
        "CONFLICT",
        "expectedVersion",
        1,
    )
    assert await table_counts(engine) == before
    admin = await mutate(gql, RETAG, {"id": private["id"], "add": ["tag-2"]}, env.admin)
    # An admin may change someone's private item, but the payload never shows it.
    assert admin["errors"] == []
    assert admin["item"] is None
    assert admin["version"] == private["version"] + 1
    owner_view = await gql.data(BY_ID_TAGS, {"id": private["id"]}, env.owner)
    assert tag_names(owner_view["contentItem"]) == ["tag-1", "tag-2"]
    assert await integrity_problems(engine) == []


# -- bulk --------------------------------------------------------------------------------------


async def test_bulk_create_is_all_or_nothing(
    gql: GraphQLClient, env: Env, engine: AsyncEngine
) -> None:
    items = [new_item(title=f"item {n}", tags=[f"tag-{n}"], source="AUTO") for n in range(4)]
    before = await table_counts(engine)
    bad = [*items[:1], new_item(tags=["missing"]), items[2], new_item(qualityScore=-1)]
    payload = await mutate(gql, BULK_CREATE, {"items": bad}, env.owner)
    assert payload["count"] == 0
    assert payload["errors"] == []
    assert [r["index"] for r in payload["results"]] == [0, 1, 2, 3]
    assert [r["item"] for r in payload["results"]] == [None] * 4
    assert [codes(r) for r in payload["results"]] == [
        [],
        [("BAD_USER_INPUT", "tags")],
        [],
        [("BAD_USER_INPUT", "qualityScore")],
    ]
    assert await table_counts(engine) == before

    payload = await mutate(gql, BULK_CREATE, {"items": items}, env.owner)
    assert payload["count"] == 4
    assert [r["item"]["title"] for r in payload["results"]] == [f"item {n}" for n in range(4)]
    assert [tag_names(r["item"]) for r in payload["results"]] == [[f"tag-{n}"] for n in range(4)]
    assert await integrity_problems(engine) == []

    too_many = await mutate(gql, BULK_CREATE, {"items": [new_item()] * (MAX_BATCH + 1)}, env.owner)
    assert (too_many["count"], too_many["results"]) == (0, [])
    assert codes(too_many) == [("BAD_USER_INPUT", "items")]
    unauthenticated = await mutate(gql, BULK_CREATE, {"items": items}, None)
    assert codes(unauthenticated) == [("UNAUTHENTICATED", None)]


async def test_bulk_retag(gql: GraphQLClient, env: Env, engine: AsyncEngine) -> None:
    created = await mutate(
        gql,
        BULK_CREATE,
        {"items": [new_item(title=f"{n}", tags=["tag-0"]) for n in range(5)]},
        env.owner,
    )
    ids = [r["item"]["id"] for r in created["results"]]
    before = await table_counts(engine)
    rejected = await mutate(
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
    assert [codes(r) for r in rejected["results"]] == [
        [],
        [("CONFLICT", "expectedVersion")],
        [("BAD_USER_INPUT", "id")],
    ]
    assert await table_counts(engine) == before
    changes = [{"id": ids[n], "set": [f"tag-{n + 1}"], "expectedVersion": 1} for n in range(5)]
    payload = await mutate(gql, BULK_RETAG, {"items": changes[::-1]}, env.owner)
    assert payload["count"] == 5
    assert [r["version"] for r in payload["results"]] == [2] * 5
    assert [tag_names(r["item"]) for r in payload["results"]] == [
        [f"tag-{n}"] for n in range(5, 0, -1)
    ]
    assert await integrity_problems(engine) == []
