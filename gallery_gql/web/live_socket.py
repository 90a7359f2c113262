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
from collections.abc import Mapping
from typing import Any, Protocol, cast

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.errors import ErrorCode
from gallery_gql.api.viewer import AuthenticationError, load_viewer
from gallery_gql.web.graphql_http.persisted import NOT_IN_LIST, PersistedDocuments


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


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages as text frames, as graphql-transport-ws has them: the router encodes JSON
    as bytes (for HTTP bodies), which strawberry would send as binary frames, and a
    browser then receives a Blob its JSON.parse refuses."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


def operation_type(payload: Mapping[str, Any], max_tokens: int) -> OperationType | None:
    """What a `subscribe` message runs (None for a document that does not parse or names
    no operation: strawberry answers those)."""
    try:
        document = parse(str(payload["query"]), max_tokens=max_tokens)
    except (GraphQLError, KeyError):
        return None
    operation = get_operation_ast(document, payload.get("operationName"))
    return None if operation is None else operation.operation


REFUSALS = {
    OperationType.QUERY: "queries are not run over WebSocket: send them by HTTP GET or POST",
    OperationType.MUTATION: "mutations are not run over WebSocket: send them by HTTP POST",
}


class _DocumentsView(Protocol):
    """The endpoint (web/graphql_http/router.py) that runs the socket."""

    documents: PersistedDocuments


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[GalleryContext, None]):
    """graphql-transport-ws with a `ping` from the server every `ping_seconds`; queries
    and mutations refused (they go by HTTP, under its rate limit, deadline and, for
    mutations, consistency token): the socket runs subscriptions only, and with
    `trusted_documents_only` only the trusted ones, as the endpoint's HTTP side does."""

    ping_seconds = 15.0
    max_tokens = 2000

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        known = message.get("id") in self.operations
        if self.connection_acknowledged and not known and isinstance(payload, Mapping):
            refusal = self._refusal(payload)
            if refusal is not None:
                error = GraphQLError(refusal[1], extensions={"code": refusal[0].value})
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
                )
                return
        await super().handle_subscribe(message)

    def _refusal(self, payload: Mapping[str, Any]) -> tuple[ErrorCode, str] | None:
        if cast(_DocumentsView, self.view).documents.refuses(payload.get("query")):
            return ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, NOT_IN_LIST
        operation = operation_type(payload, self.max_tokens)
        if operation is not None and operation in REFUSALS:
            return ErrorCode.BAD_REQUEST, REFUSALS[operation]
        return None

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):
            return  # the client left while an event was being sent: not an error
        await super().handle_task_exception(error)

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


def pinging_handler(ping_seconds: float, max_tokens: int) -> type[PingingTransportWSHandler]:
    attributes = {"ping_seconds": ping_seconds, "max_tokens": max_tokens}
    return type("PingingHandler", (PingingTransportWSHandler,), attributes)
