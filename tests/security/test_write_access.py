"""Findings on the write path:
- a no-op retag by the admin on someone's private item returned its title and prompt and
  bumped its version (a write that changes nothing writes nothing; a payload never shows
  what the viewer could not read);
- an idempotency replay skipped the access check (a demoted admin replaying a key read
  the private item's changed title);
- `bulkRetagContent` over 500 of others' ids took their row locks before checking access
  (613 ms of blocking for their owners)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import item_global_id
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey, Source
from tests.api.mutations.calls import BULK_RETAG, RETAG, UPDATE
from tests.conftest import GraphQLClient
from tests.security.conftest import World

_LOCK_WAITS = text("SELECT count(*) FROM pg_locks WHERE NOT granted")

OWNER_VIEW = "query V($id: ID!) { contentItem(id: $id) { title version tags { name } } }"


async def _payload(gql: GraphQLClient, query: str, input_: dict[str, Any], token: str) -> Any:
    (payload,) = (await gql.data(query, {"input": input_}, token)).values()
    return payload


async def _row(engine: AsyncEngine, key: ItemKey) -> tuple[int, object]:
    table = CONTENT_TABLES[key.source]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(table.c.version, table.c.updated_at).where(table.c.id == key.id)
            )
        ).one()
    return row.version, row.updated_at


# -- no-op writes and payloads --------------------------------------------------------------


async def test_a_no_op_retag_writes_nothing_and_shows_nothing(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    before = await _row(engine, world.private_item)
    payload = await _payload(
        gql, RETAG, {"id": world.private_id, "add": [str(world.marked_tag)]}, world.tokens["admin"]
    )
    assert payload["errors"] == []
    assert payload["item"] is None  # the admin may change it, not read it
    assert payload["version"] == before[0]
    assert await _row(engine, world.private_item) == before


async def test_a_real_change_by_the_admin_shows_nothing_either(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    version, _ = await _row(engine, world.private_item)
    payload = await _payload(gql, RETAG, {"id": world.private_id, "set": []}, world.tokens["admin"])
    assert payload["errors"] == []
    assert payload["item"] is None
    assert payload["version"] == version + 1
    updated = await _payload(
        gql, UPDATE, {"id": world.private_id, "title": "renamed"}, world.tokens["admin"]
    )
    assert updated["errors"] == []
    assert updated["item"] is None


async def test_a_no_op_update_writes_nothing(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    before = await _row(engine, world.public_item)
    payload = await _payload(
        gql,
        UPDATE,
        {"id": world.public_id, "title": "owner's public piece", "isPrivate": False},
        world.tokens["owner"],
    )
    assert payload["errors"] == []
    assert payload["item"]["version"] == before[0]
    assert await _row(engine, world.public_item) == before


# -- idempotency replays --------------------------------------------------------------------


async def test_a_replay_checks_access_first(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    request = {"id": world.private_id, "set": [], "idempotencyKey": "moderation-1"}
    first = await _payload(gql, RETAG, request, world.tokens["admin"])
    assert first["errors"] == []
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET is_admin = false WHERE id = :id"), {"id": world.admin}
        )
    await _payload(
        gql, UPDATE, {"id": world.private_id, "title": "changed since"}, world.tokens["owner"]
    )
    replay = await _payload(gql, RETAG, request, world.tokens["admin"])
    assert replay["item"] is None
    assert [e["code"] for e in replay["errors"]] == ["NOT_FOUND"]
    assert "changed since" not in str(replay)


async def test_a_replay_by_the_owner_still_replays(gql: GraphQLClient, world: World) -> None:
    request = {"id": world.private_id, "set": [], "idempotencyKey": "mine-1"}
    first = await _payload(gql, RETAG, request, world.tokens["owner"])
    again = await _payload(gql, RETAG, request, world.tokens["owner"])
    assert again["replayed"] is True
    assert again["version"] == first["version"]
    assert again["item"]["id"] == world.private_id


# -- locks only after access ----------------------------------------------------------------


async def test_bulk_retag_of_others_items_takes_no_locks(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    """While the owner's row is locked, a bulk retag naming it (and 498 other ids that
    are not the attacker's) is refused without ever waiting for the lock: no session of
    the cluster shows a lock it has asked for and not been granted while the call runs,
    and the call is answered while the owner still holds the row."""
    ids = [world.private_id, world.public_id] + [
        item_global_id(ItemKey(Source.AUTO, 10_000 + n)) for n in range(498)
    ]
    changes = [{"id": id_, "set": []} for id_ in ids]
    table = CONTENT_TABLES[world.public_item.source]
    waits: list[int] = []
    async with engine.connect() as owner, engine.connect() as watcher:
        await owner.execute(text("BEGIN"))
        await owner.execute(
            select(table.c.id).where(table.c.id == world.public_item.id).with_for_update()
        )
        call = asyncio.create_task(
            _payload(gql, BULK_RETAG, {"items": changes}, world.tokens["other"])
        )
        async with asyncio.timeout(60):
            while not call.done():
                waits.append(await watcher.scalar(_LOCK_WAITS) or 0)
                await asyncio.sleep(0.005)
        await owner.execute(text("ROLLBACK"))
    assert max(waits, default=0) == 0, "the bulk call waited for a row lock"
    payload = call.result()
    assert payload["count"] == 0
    codes = {e["code"] for result in payload["results"] for e in result["errors"]}
    assert codes == {"NOT_FOUND", "FORBIDDEN"}  # not a lock timeout


async def test_the_owner_is_not_blocked_by_others_bulk_retags(
    gql: GraphQLClient, world: World, engine: AsyncEngine
) -> None:
    """Many refused bulk calls at once, and the owner's own retag goes through each time."""
    changes = [{"id": world.public_id, "set": []}] * 1 + [
        {"id": item_global_id(ItemKey(Source.AUTO, 20_000 + n)), "set": []} for n in range(499)
    ]
    attacks = [
        _payload(gql, BULK_RETAG, {"items": changes}, world.tokens["other"]) for _ in range(4)
    ]
    mine = _payload(
        gql, RETAG, {"id": world.public_id, "add": [str(world.marked_tag)]}, world.tokens["owner"]
    )
    results = await asyncio.gather(*attacks, mine)
    assert all(r["count"] == 0 for r in results[:-1])
    assert results[-1]["errors"] == []
