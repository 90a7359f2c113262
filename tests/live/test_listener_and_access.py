"""Who may subscribe and see what, and what subscribers are told when a worker loses its
LISTEN connection."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import ConnectionClosed

from gallery_gql.observability.metrics import REGISTRY
from tests.api.mutations.calls import BULK_CREATE, CREATE, DELETE, UPDATE, new_item
from tests.live.client import EVENTS, LiveClient, live_client, post
from tests.live.conftest import Gallery, Workers, until


async def test_a_lost_listener_tells_its_subscribers_and_comes_back(
    engine: AsyncEngine, gallery: Gallery, workers: Workers
) -> None:
    writer, listening = workers.urls
    hub = workers.hub(1)
    interrupted = _ended("interrupted")
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
        assert _ended("interrupted") == interrupted + 1  # gallery_live_subscriptions_ended

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


def _ended(reason: str) -> float:
    value = REGISTRY.get_sample_value("gallery_live_subscriptions_ended_total", {"reason": reason})
    return value or 0.0


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


async def test_a_subscription_over_http_is_a_bad_request(workers: Workers) -> None:
    async with httpx.AsyncClient(base_url=workers.urls[0], timeout=10) as http:
        answer = await http.post("/graphql", json={"query": EVENTS})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_mutation_over_a_websocket_is_refused(gallery: Gallery, workers: Workers) -> None:
    """Mutations go by HTTP POST (its rate limit, deadline and consistency token)."""
    async with live_client(workers.urls[0], gallery.tokens[1]) as client:
        create = {"input": new_item()}
        await client.subscribe(create, query=CREATE)
        assert (
            await _refusal(client) == "mutations are not run over WebSocket: send them by HTTP POST"
        )
    assert await _items_titled(workers, "A cat") == 0


@pytest.mark.parametrize(
    ("document", "operation_name"),
    [
        ("{ __typename }", None),
        ("query Q { contentItems(first: 1) { totalCount { count } } }", "Q"),
        ("subscription S { contentItemEvents { kind } } query Q { __typename }", "Q"),
    ],
)
async def test_a_query_over_a_websocket_is_refused(
    gallery: Gallery, workers: Workers, document: str, operation_name: str | None
) -> None:
    """Queries go by HTTP GET or POST (its rate limit and deadline), which the socket has not."""
    async with live_client(workers.urls[0], gallery.tokens[1]) as client:
        payload = {"query": document, "operationName": operation_name}
        await client.send({"id": "q", "type": "subscribe", "payload": payload})
        expected = "queries are not run over WebSocket: send them by HTTP GET or POST"
        assert await _refusal(client) == expected
        op = await client.subscribe()  # the socket still runs subscriptions
        await until(lambda: workers.hub(0).subscriptions == 1)
        await client.send({"id": op, "type": "complete"})
        assert await client.quiet(0.2) == []


async def _refusal(client: LiveClient) -> str:
    """The message of the `error` the server answered a `subscribe` with (BAD_REQUEST)."""
    message = await client.receive()
    assert message["type"] == "error", message
    [error] = message["payload"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    text: str = error["message"]
    return text


async def _items_titled(workers: Workers, title: str) -> int:
    query = "query($q: String) { contentItems(search: $q) { totalCount { count } } }"
    async with httpx.AsyncClient(base_url=workers.urls[0], timeout=10) as http:
        answer = await http.post("/graphql", json={"query": query, "variables": {"q": title}})
    count: int = answer.json()["data"]["contentItems"]["totalCount"]["count"]
    return count


async def test_a_batch_over_one_notification_arrives_whole(
    gallery: Gallery, workers: Workers
) -> None:
    writer, listening = workers.urls
    async with live_client(listening) as client:
        await client.subscribe()
        await until(lambda: workers.hub(1).subscriptions == 1)
        batch = [new_item(title=f"Batch {n}") for n in range(300)]  # 3 notifications
        data = await post(writer, BULK_CREATE, {"input": {"items": batch}}, gallery.tokens[1])
        created = [result["item"]["id"] for result in data["bulkCreateContent"]["results"]]
        got = [(await client.receive())["payload"]["data"]["contentItemEvents"] for _ in batch]
    assert [event["itemId"] for event in got] == created
    assert {event["kind"] for event in got} == {"CREATED"}
