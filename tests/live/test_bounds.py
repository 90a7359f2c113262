"""Every live subscription is bounded: per WebSocket and per worker (TOO_MANY_SUBSCRIPTIONS),
a client that stops reading is closed with 1013 rather than buffered for, and an idle
socket is pinged."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gallery_gql.settings import Settings
from tests.api.mutations.calls import BULK_CREATE, new_item
from tests.live.client import LiveClient, live_client, post
from tests.live.conftest import Gallery, Workers, until

BIG = """subscription { contentItemEvents { kind itemId item { id prompt contentData } } }"""


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "live_max_subscriptions_per_connection": 2,
            "live_max_subscriptions_per_worker": 3,
            "live_queue_size": 4,
            "live_ping_seconds": 0.2,
            "header_timeout_seconds": 1.0,
        }
    )


def _code(message: dict[str, object]) -> object:
    assert message["type"] == "next", message
    payload = message["payload"]
    assert isinstance(payload, dict)
    return payload["errors"][0]["extensions"]["code"]


async def test_subscriptions_are_capped_per_connection_and_per_worker(
    gallery: Gallery, workers: Workers
) -> None:
    url, hub = workers.urls[0], workers.hub(0)
    async with live_client(url) as first, live_client(url, gallery.tokens[1]) as second:
        await first.subscribe()
        await until(lambda: hub.subscriptions == 1)  # in order: they start concurrently
        await first.subscribe()
        await until(lambda: hub.subscriptions == 2)
        refused = await first.subscribe()
        message = await first.receive()
        assert message["id"] == refused, message
        assert _code(message) == "TOO_MANY_SUBSCRIPTIONS"
        assert "at most 2" in message["payload"]["errors"][0]["message"]
        assert await first.receive() == {"id": refused, "type": "complete"}

        await second.subscribe()
        await until(lambda: hub.subscriptions == 3)
        over = await second.subscribe()
        message = await second.receive()
        assert (message["id"], _code(message)) == (over, "TOO_MANY_SUBSCRIPTIONS")
        assert "this server" in message["payload"]["errors"][0]["message"]

        await first.send({"id": "1", "type": "complete"})  # frees a place on the worker
        await until(lambda: hub.subscriptions == 2)
        await second.subscribe()
        await until(lambda: hub.subscriptions == 3)
    await until(lambda: hub.subscriptions == 0)


async def test_a_client_that_stops_reading_is_closed_with_1013(
    gallery: Gallery, workers: Workers
) -> None:
    url, hub = workers.urls[0], workers.hub(0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    async with live_client(url, sock=sock) as reader:
        await reader.subscribe(query=BIG)
        await until(lambda: hub.subscriptions == 1)
        prompt = "word " * 3_000  # ~15 KB an event
        items = [new_item(prompt=prompt) for _ in range(50)]
        for _ in range(20):  # stops as soon as the subscriber is dropped
            await post(url, BULK_CREATE, {"input": {"items": items}}, gallery.tokens[1])
            if hub.subscriptions == 0:
                break
        await until(lambda: hub.subscriptions == 0)
        with pytest.raises(ConnectionClosed) as closed:
            await _read_all(reader)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013


async def _read_all(client: LiveClient) -> None:
    for _ in range(2_000):
        await client.receive()


async def test_a_socket_that_never_initialises_is_closed_with_4408(workers: Workers) -> None:
    url = workers.urls[0].replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def _until_closed(ws: ClientConnection) -> None:
    async with asyncio.timeout(10):
        for _ in range(100):  # pings until the close
            await ws.recv()


async def test_an_idle_socket_is_pinged(gallery: Gallery, workers: Workers) -> None:
    async with live_client(workers.urls[1], gallery.tokens[2]) as client:
        await client.subscribe()
        assert await client.quiet(0.7) == []
        assert client.pings >= 2
