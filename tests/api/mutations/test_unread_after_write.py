"""A write that committed is answered as written even when reading the item back fails
(a statement timeout on a stalled server): reported as TIMEOUT, a client retried it, and
a retag was counted twice (a create would have made a second item)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.api.loaders.content import ItemLoader
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.records import ItemRecord
from tests.api.mutations.calls import (
    BY_ID,
    BY_ID_TAGS,
    CREATE,
    DELETE,
    RETAG,
    UPDATE,
    Env,
    create_item,
    mutate,
    new_item,
    table_counts,
    tag_names,
)
from tests.conftest import GraphQLClient


def _unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of items through the request's loader times out."""

    async def timed_out(
        self: ItemLoader, conn: AsyncConnection, keys: Sequence[ItemKey]
    ) -> Mapping[ItemKey, ItemRecord]:
        raise OperationalError("SELECT", {}, Exception("canceling statement due to timeout"))

    monkeypatch.setattr(ItemLoader, "fetch", timed_out)


async def test_a_retag_whose_item_cannot_be_read_back_is_answered_as_written(
    gql: GraphQLClient, env: Env, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = await create_item(gql, env.owner, tags=[env.tag(0)])
    before = await table_counts(engine)
    with monkeypatch.context() as patch:
        _unreadable(patch)
        payload = await mutate(gql, RETAG, {"id": item["id"], "set": [env.tag(1)]}, env.owner)
    assert payload["errors"] == []
    assert payload["version"] == 2
    assert payload["item"] is None
    assert (await table_counts(engine))["versions"] == before["versions"] + 1
    read = (await gql.data(BY_ID, {"id": item["id"]}, env.owner))["contentItem"]
    assert read["version"] == 2
    tags = (await gql.data(BY_ID_TAGS, {"id": item["id"]}, env.owner))["contentItem"]["tags"]
    assert tag_names({"tags": tags}) != tag_names(item)  # the new tag, not the first


async def test_a_create_whose_item_cannot_be_read_back_makes_one_item(
    gql: GraphQLClient, env: Env, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await table_counts(engine)
    with monkeypatch.context() as patch:
        _unreadable(patch)
        payload = await mutate(gql, CREATE, new_item(tags=[env.tag(0)]), env.owner)
    assert payload["errors"] == []
    assert payload["item"] is None
    after = await table_counts(engine)
    rows = after["content_items"] + after["content_items_auto"]
    assert rows == before["content_items"] + before["content_items_auto"] + 1


@pytest.mark.parametrize(
    ("query", "variables"),
    [(UPDATE, {"title": "renamed"}), (DELETE, {})],
    ids=["update", "delete"],
)
async def test_updates_and_deletes_are_answered_as_written(
    gql: GraphQLClient,
    env: Env,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
) -> None:
    item = await create_item(gql, env.owner)
    before = await table_counts(engine)
    with monkeypatch.context() as patch:
        _unreadable(patch)
        payload = await mutate(gql, query, {"id": item["id"], **variables}, env.owner)
    assert payload["errors"] == []
    assert await table_counts(engine) != before
