"""The WebSocket side of live subscriptions (graphql-transport-ws on /graphql): who the
client is, from the `connection_init` payload, and keep-alive pings.

Browsers cannot set headers on a WebSocket, so the bearer token comes in the payload as
`{"Authorization": "Bearer <token>"}`; an invalid one closes the socket with 4403. The
server pings every `LIVE_PING_SECONDS` so that proxies keep an idle socket open (uvicorn's
WebSocket pings, under it, find dead peers).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.viewer import AuthenticationError, load_viewer


async def authenticate(context: GalleryContext) -> None:
    """Sign the connection in with the `connection_init` payload's token, if any;
    ConnectionRejectionError (close 4403) when it is not valid."""
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    authorization = params.get("Authorization", params.get("authorization"))
    if authorization is None:
        return
    if not isinstance(authorization, str):
        raise ConnectionRejectionError({"message": "Authorization must be `Bearer <token>`"})
    try:
        context.viewer = await load_viewer(authorization, context.settings, context.reads)
    except AuthenticationError as exc:
        raise ConnectionRejectionError({"message": str(exc)}) from None


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[GalleryContext, None]):
    """graphql-transport-ws with a `ping` from the server every `ping_seconds`."""

    ping_seconds = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pings: asyncio.Task[None] | None = None

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._pings = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.ping_seconds)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pings is not None:
            self._pings.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pings
        await super().shutdown()


def pinging_handler(ping_seconds: float) -> type[PingingTransportWSHandler]:
    return type("PingingHandler", (PingingTransportWSHandler,), {"ping_seconds": ping_seconds})
