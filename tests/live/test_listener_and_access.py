"""Who may subscribe and see what, and what subscribers are told when a worker loses its
LISTEN connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import ConnectionClosed

from tests.api.mutations.calls import CREATE, DELETE, UPDATE, new_item
from tests.live.client import live_client, post
from tests.live.conftest import Gallery, Workers, until


async def test_a_lost_listener_tells_its_subscribers_and_comes_back(
    engine: AsyncEngine, gallery: Gallery, workers: Workers
) -> None:
    writer, listening = workers.urls
    hub = workers.hub(1)
    async with live_client(listening, gallery.tokens[1]) as client:
        op = await client.subscribe()
        await until(lambda: hub.subscriptions == 1)
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'gallery-gql-listener' "
                    "AND datname = current_database()"
                )
            )
        message = await client.receive()
        assert message["id"] == op
        error = message["payload"]["errors"][0]
        assert error["extensions"]["code"] == "EVENTS_INTERRUPTED"
        assert await client.receive() == {"id": op, "type": "complete"}

        await until(lambda: hub.listening)  # reconnected: subscribe again
        again = await client.subscribe()
        await until(lambda: hub.subscriptions == 1)
        created = await post(writer, CREATE, {"input": new_item()}, gallery.tokens[2])
        message = await client.receive()
        assert message["id"] == again
        event = message["payload"]["data"]["contentItemEvents"]
        assert (event["kind"], event["itemId"]) == (
            "CREATED",
            created["createContent"]["item"]["id"],
        )


async def test_private_items_reach_only_their_creator(gallery: Gallery, workers: Workers) -> None:
    writer, listening = workers.urls
    hub = workers.hub(1)
    owner, other, admin = gallery.tokens[1], gallery.tokens[2], gallery.tokens[0]
    async with (
        live_client(listening, owner) as mine,
        live_client(listening, other) as theirs,
        live_client(listening, admin) as admins,
        live_client(listening) as anonymous,
    ):
        for client in (mine, theirs, admins, anonymous):
            await client.subscribe()
        await until(lambda: hub.subscriptions == 4)
        # Each write matched before the next (an item is matched as it is when its
        # event is handled: an update handled after the delete has no item to show).
        created = await post(writer, CREATE, {"input": new_item(isPrivate=True)}, owner)
        await until(lambda: hub.processed == 1)
        item_id = created["createContent"]["item"]["id"]
        await post(writer, UPDATE, {"input": {"id": item_id, "title": "Still mine"}}, owner)
        await until(lambda: hub.processed == 2)
        await post(writer, DELETE, {"input": {"id": item_id}}, owner)
        kinds = []
        for message in await mine.quiet(0.5):
            event = message["payload"]["data"]["contentItemEvents"]
            kinds.append((event["kind"], event["item"] is not None))
        assert kinds == [("CREATED", True), ("UPDATED", True), ("DELETED", False)]
        for client in (theirs, admins, anonymous):
            assert await client.quiet(0.2) == []


async def test_an_invalid_token_is_refused_with_4403(gallery: Gallery, workers: Workers) -> None:
    with pytest.raises(ConnectionClosed) as closed:
        async with live_client(workers.urls[0], "not-a-token"):
            pass
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_filter_that_needs_a_viewer_or_names_unknown_tags_is_refused(
    gallery: Gallery, workers: Workers
) -> None:
    async with live_client(workers.urls[0]) as client:
        await client.subscribe({"creator": {"scope": "ME"}})
        message = await client.receive()
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await client.receive()  # complete
        await client.subscribe({"tags": ["00000000-0000-0000-0000-000000000001"]})
        message = await client.receive()
        assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert workers.hub(0).subscriptions == 0
