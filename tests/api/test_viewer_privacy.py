"""Who is asking: bearer tokens, viewer-relative creator filters, and private items, which
only their creator sees (in pages, by id, through node, and in totalCount)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.api.global_id import item_global_id
from gallery_gql.auth import mint_token
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, add_items, build_gallery, item_row, sync_derived
from tests.model import ModelQuery, expected, load_items

VIEWER = "query { viewer { username databaseId } }"
PAGE = """
query Page($tags: [ID!], $creator: CreatorFilter, $after: Cursor) {
  contentItems(tags: $tags, creator: $creator, first: 100, after: $after) {
    edges { node { id source databaseId isPrivate creator { databaseId } } }
    pageInfo { hasNextPage endCursor }
    totalCount { count isExact }
  }
}
"""
BY_ID = """
query ById($id: ID!) {
  contentItem(id: $id) { id databaseId isPrivate }
  node(id: $id) { id ... on ContentItem { databaseId isPrivate } }
}
"""
Key = tuple[str, int]


@dataclass(frozen=True)
class Privacy:
    """The shared gallery plus a marked tag carrying exactly these items."""

    dataset: Dataset
    owner: UUID
    other: UUID
    marked: str
    owner_private: Key
    owner_public: Key
    other_private: Key


@pytest.fixture(scope="module")
def database_url(module_database_url: str) -> str:
    """These tests only read: one database for the module."""
    return module_database_url


@pytest.fixture(scope="module")
async def privacy(database_url: str) -> Privacy:
    engine = create_async_engine(database_url)
    dataset = await build_gallery(engine, regular=40, auto=80)
    owner, other = dataset.users[1], dataset.users[2]
    marked = dataset.tags[-1]  # weight 0: build_gallery puts it on no item
    rng = random.Random(3)
    keys: list[Key] = []
    for source, creator, private in (
        (Source.REGULAR, owner, True),
        (Source.AUTO, owner, False),
        (Source.AUTO, other, True),
    ):
        row = item_row(rng, dataset, [0.0] * len(dataset.tags))
        row.update(creator_id=creator, is_private=private, tags=[marked])
        await add_items(engine, source, [row])
        async with engine.connect() as conn:
            table = CONTENT_TABLES[source]
            new_id = (await conn.execute(select(func.max(table.c.id)))).scalar_one()
        keys.append((source.name, new_id))
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET is_active = false WHERE id = :id"), {"id": dataset.users[5]}
        )
    await sync_derived(engine)
    await engine.dispose()
    return Privacy(dataset, owner, other, str(marked), *keys)


def _token(settings: Settings, user: UUID | None) -> str | None:
    return mint_token(user, settings) if user else None


def _global_id(key: Key) -> str:
    return item_global_id(ItemKey(Source[key[0]], key[1]))


async def _walk(
    gql: GraphQLClient, token: str | None, **variables: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every node of the result, and the first page's totalCount."""
    nodes: list[dict[str, Any]] = []
    total: dict[str, Any] | None = None
    after = None
    for _ in range(10):
        data = (await gql.data(PAGE, {**variables, "after": after}, token))["contentItems"]
        nodes.extend(edge["node"] for edge in data["edges"])
        total = total or data["totalCount"]
        if not data["pageInfo"]["hasNextPage"]:
            return nodes, total
        after = data["pageInfo"]["endCursor"]
    pytest.fail("paging did not end")


def _keys(nodes: list[dict[str, Any]]) -> list[Key]:
    return [(node["source"], node["databaseId"]) for node in nodes]


async def _error(
    gql: GraphQLClient, query: str, variables: dict[str, Any] | None, token: str | None
) -> tuple[int, dict[str, Any]]:
    body = await gql.post(query, variables, token)
    assert len(body["errors"]) == 1, body
    return body["_status"], body["errors"][0]


# --- the viewer and its token ------------------------------------------------------------


async def test_viewer_without_token_is_null(gql: GraphQLClient, privacy: Privacy) -> None:
    assert await gql.data(VIEWER) == {"viewer": None}


async def test_viewer_with_token(gql: GraphQLClient, privacy: Privacy, settings: Settings) -> None:
    for n, user in enumerate(privacy.dataset.users[:3]):
        data = await gql.data(VIEWER, token=mint_token(user, settings))
        assert data == {"viewer": {"username": f"user{n}", "databaseId": str(user)}}


def _bad_tokens(settings: Settings, privacy: Privacy) -> dict[str, str]:
    user = privacy.owner
    elsewhere = settings.model_copy(update={"secret": "another-secret-" + "z" * 32})
    claims = {"sub": str(user), "exp": 2**40, "aud": settings.jwt_audience}
    key = "jwt:" + settings.signing_secret()
    return {
        "expired": mint_token(user, settings, ttl_seconds=-10),
        "other secret": mint_token(user, elsewhere),
        "other audience": mint_token(user, settings.model_copy(update={"jwt_audience": "x"})),
        "other issuer": mint_token(user, settings.model_copy(update={"jwt_issuer": "x"})),
        "no issuer": jwt.encode(claims, key, algorithm="HS256"),
        "alg none": jwt.encode({**claims, "iss": settings.jwt_issuer}, "", algorithm="none"),
        "not a uuid": jwt.encode(
            {**claims, "iss": settings.jwt_issuer, "sub": "admin"}, key, algorithm="HS256"
        ),
        "garbage": "not.a.token",
        "truncated": mint_token(user, settings)[:-4],
        "unknown user": mint_token(UUID(int=999), settings),
        "inactive user": mint_token(privacy.dataset.users[5], settings),
    }


@pytest.mark.parametrize("query", [VIEWER, PAGE])
async def test_invalid_tokens_are_unauthenticated(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, query: str
) -> None:
    for name, token in _bad_tokens(settings, privacy).items():
        status, error = await _error(gql, query, {}, token)
        assert status == 401, name
        assert error["extensions"]["code"] == "UNAUTHENTICATED", name
        assert "Traceback" not in error["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"])
async def test_malformed_authorization_header_is_unauthenticated(
    client: httpx.AsyncClient, privacy: Privacy, header: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_zero_ttl_is_not_the_default_ttl(settings: Settings) -> None:
    token = mint_token(UUID(int=1), settings, ttl_seconds=0)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 0


# --- viewer-relative creator filters -----------------------------------------------------


@pytest.mark.parametrize("scope", ["ME", "OTHERS"])
async def test_viewer_scopes_need_a_viewer(
    gql: GraphQLClient, privacy: Privacy, scope: str
) -> None:
    status, error = await _error(gql, PAGE, {"creator": {"scope": scope}}, None)
    assert status == 200
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert scope in error["message"]


@pytest.mark.parametrize("scope", ["ME", "OTHERS"])
@pytest.mark.parametrize("signed_in", [False, True])
async def test_scope_and_user_id_together_are_bad_input(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, scope: str, signed_in: bool
) -> None:
    creator = {"scope": scope, "userId": str(privacy.owner)}
    token = _token(settings, privacy.owner if signed_in else None)
    status, error = await _error(gql, PAGE, {"creator": creator}, token)
    assert status == 200
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_scopes_follow_the_viewer(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, engine: AsyncEngine
) -> None:
    items = await load_items(engine)
    token = mint_token(privacy.owner, settings)
    tags = [privacy.dataset.tags[3]]
    cases = {
        "ME": ModelQuery(tuple(tags), creator_id=privacy.owner, viewer_id=privacy.owner),
        "OTHERS": ModelQuery(tuple(tags), not_creator_id=privacy.owner, viewer_id=privacy.owner),
        "ANYONE": ModelQuery(tuple(tags), viewer_id=privacy.owner),
    }
    for scope, query in cases.items():
        variables = {"tags": [str(t) for t in tags], "creator": {"scope": scope}}
        nodes, total = await _walk(gql, token, **variables)
        want = expected(items, query)
        assert _keys(nodes) == want, scope
        assert total == {"count": len(want), "isExact": True}
    mine, _ = await _walk(gql, token, creator={"scope": "ME"})
    assert any(node["isPrivate"] for node in mine)
    assert {node["creator"]["databaseId"] for node in mine} == {str(privacy.owner)}


# --- private items -----------------------------------------------------------------------


def _visible(privacy: Privacy, viewer: UUID | None) -> list[Key]:
    """The marked tag's items a viewer sees, sorted by key (order is not the point)."""
    keys = [privacy.owner_public]
    if viewer == privacy.owner:
        keys.append(privacy.owner_private)
    if viewer == privacy.other:
        keys.append(privacy.other_private)
    return sorted(keys)


@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "third"])
async def test_private_items_in_pages_and_counts(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, who: str
) -> None:
    viewer = {
        "anonymous": None,
        "owner": privacy.owner,
        "other": privacy.other,
        "third": privacy.dataset.users[3],
    }[who]
    token = _token(settings, viewer)
    nodes, total = await _walk(gql, token, tags=[privacy.marked])
    assert sorted(_keys(nodes)) == _visible(privacy, viewer)
    assert total == {"count": len(_visible(privacy, viewer)), "isExact": True}
    by_owner, owner_total = await _walk(gql, token, creator={"userId": str(privacy.owner)})
    assert (privacy.owner_private in _keys(by_owner)) == (viewer == privacy.owner)
    assert owner_total["count"] == len(by_owner)


@pytest.mark.parametrize("who", ["anonymous", "other"])
async def test_nobody_else_sees_any_private_item(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, engine: AsyncEngine, who: str
) -> None:
    viewer = privacy.other if who == "other" else None
    nodes, total = await _walk(gql, _token(settings, viewer))
    assert nodes
    assert all(not n["isPrivate"] or n["creator"]["databaseId"] == str(viewer) for n in nodes)
    want = expected(await load_items(engine), ModelQuery(viewer_id=viewer))
    assert _keys(nodes) == want
    assert total == {"count": len(want), "isExact": True}


@pytest.mark.parametrize("who", ["anonymous", "owner", "other"])
async def test_private_item_by_id_and_node(
    gql: GraphQLClient, privacy: Privacy, settings: Settings, who: str
) -> None:
    viewer = {"anonymous": None, "owner": privacy.owner, "other": privacy.other}[who]
    token = _token(settings, viewer)
    for key in (privacy.owner_private, privacy.owner_public, privacy.other_private):
        data = await gql.data(BY_ID, {"id": _global_id(key)}, token)
        if key in _visible(privacy, viewer):
            node = {
                "id": _global_id(key),
                "databaseId": key[1],
                "isPrivate": key != privacy.owner_public,
            }
            assert data == {"contentItem": node, "node": node}, key
        else:
            assert data == {"contentItem": None, "node": None}, key
