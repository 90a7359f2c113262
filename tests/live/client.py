"""A graphql-transport-ws client over a real WebSocket (the `websockets` library), and
the app served on loopback (tests/security/served.py: uvicorn with the serve options)."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

EVENTS = """subscription Live($tags: [ID!], $match: TagMatchMode! = ANY, $excludeTags: [ID!],
    $creator: CreatorFilter, $sources: [ContentSource!], $collections: [ContentCollection!],
    $search: String) {
  contentItemEvents(tags: $tags, match: $match, excludeTags: $excludeTags, creator: $creator,
      sources: $sources, collections: $collections, search: $search) {
    kind itemId item { id title isPrivate tags { id } }
  }
}"""


class LiveClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.pings = 0

    async def subscribe(self, variables: dict[str, Any] | None = None, query: str = EVENTS) -> str:
        op = str(next(self._ids))
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op, "type": "subscribe", "payload": payload})
        return op

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def receive(self, seconds: float = 10.0) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered and counted)."""
        async with asyncio.timeout(seconds):
            while True:
                raw = await self.ws.recv()
                assert isinstance(raw, str), "graphql-transport-ws messages are text frames"
                message: dict[str, Any] = orjson.loads(raw)
                if message["type"] == "ping":
                    self.pings += 1
                    await self.send({"type": "pong"})
                    continue
                return message

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` of the last message."""
        out = []
        while True:
            try:
                out.append(await self.receive(seconds))
            except TimeoutError:
                return out


@asynccontextmanager
async def live_client(
    base: str, token: str | None = None, sock: socket.socket | None = None
) -> AsyncIterator[LiveClient]:
    """Connected and acknowledged (`connection_init` with the token, if any)."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        sock=sock,
        max_size=2**22,
        open_timeout=10,
    ) as ws:
        init: dict[str, Any] = {"type": "connection_init"}
        if token is not None:
            init["payload"] = {"Authorization": f"Bearer {token}"}
        client = LiveClient(ws)
        await client.send(init)
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client


async def post(base: str, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        answer = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]
