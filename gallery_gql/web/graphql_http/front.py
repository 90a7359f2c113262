"""The front door of `GET` and `POST /graphql`: the app's middleware stack, fused.

Through FastAPI a GraphQL request passed a dozen ASGI layers before the endpoint (Starlette's
error and exception middleware, FastAPI's telemetry, body limit and exit stack, ours:
security headers, the request id, the rate limit, the body guard, the deadline; then
routing and the route's wrappers), each a coroutine and most a `send` wrapper: a ninth of
a served page's CPU, of which the front saves 60-90 µs a request (scripts/front_cost.py,
2026-12-05). `GraphQLFront` answers those requests itself, doing what each layer did, in
their order:

1. the hardening headers on every answer it sends (`security_headers.HardeningHeaders`);
2. the request id: `X-Request-ID` taken when it is a UUID, else made, set in the log
   context (`asgi_correlation_id.correlation_id`) and the request's headers, and echoed;
3. the rate limit, when configured (the app's one `ClientRateLimiter`);
4. the body guard's limits and timeout (`body_guard.guarded_body`);
5. the request deadline (`deadline.too_late`);
6. the app's exception handlers for what the endpoint raises (an invalid token or
   consistency token, a database failure, ...), and its handler of last resort for
   anything else, which answers without the headers of 1 and 2 and re-raises, as
   Starlette's `ServerErrorMiddleware`, outside them, did.

`GalleryApp` hands it those requests and everything else (other paths and methods,
WebSockets, lifespan) to FastAPI unchanged. The front stands aside, FastAPI answering
`/graphql` too, when CORS is configured (its middleware sits between the headers and the
request id) or FastAPI's own telemetry is on (a tracer or meter provider is set); behind
trusted proxies the front is wrapped in its own `ProxyHeadersMiddleware`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast
from uuid import uuid4

from asgi_correlation_id import correlation_id
from asgi_correlation_id.extensions.sentry import get_sentry_extension
from asgi_correlation_id.middleware import FAILED_VALIDATION_MESSAGE, is_valid_uuid4
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gallery_gql.web.body_guard import guarded_body, replay
from gallery_gql.web.deadline import too_late
from gallery_gql.web.graphql_http.endpoint import Endpoint
from gallery_gql.web.rate_limit import ClientRateLimiter
from gallery_gql.web.security_headers import HardeningHeaders

PATH = "/graphql"
METHODS = frozenset({"GET", "POST"})
REQUEST_ID = "X-Request-ID"
_REQUEST_ID_KEY = REQUEST_ID.lower().encode("latin-1")
_correlation_log = logging.getLogger("asgi_correlation_id")

Handler = Callable[[Request, Exception], Any]


class _StartedError(RuntimeError):
    """Raised from a handled exception whose answer had begun: Starlette's message."""


class GraphQLFront:
    def __init__(
        self,
        endpoint: Endpoint,
        hardening: HardeningHeaders,
        limiter: ClientRateLimiter | None,
        max_body_bytes: int,
        body_timeout: float,
        deadline_seconds: float,
        exception_handlers: Mapping[Any, Any],
    ) -> None:
        self.endpoint = endpoint
        self.hardening = hardening
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.deadline_seconds = deadline_seconds
        # As FastAPI splits them: `Exception` (and 500) answer last, outside the others.
        self.handlers: dict[Any, Handler] = {
            key: handler
            for key, handler in exception_handlers.items()
            if key not in (500, Exception) and not isinstance(key, int)
        }
        self.status_handlers: dict[int, Handler] = {
            key: handler
            for key, handler in exception_handlers.items()
            if isinstance(key, int) and key != 500
        }
        self.last_resort: Handler | None = exception_handlers.get(
            Exception
        ) or exception_handlers.get(500)
        self.sentry = get_sentry_extension()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = _Exchange(scope, send, self.hardening)
        try:
            exchange.request_id = self._correlate(scope)
            await self._limited(exchange, receive)
        except Exception as exc:
            if self.last_resort is None:
                raise
            response = await _handled(self.last_resort, Request(scope), exc)
            if not exchange.started:
                await exchange.send_bare(response)
            raise

    def _correlate(self, scope: Scope) -> str:
        """What `asgi_correlation_id.CorrelationIdMiddleware` does with its defaults."""
        header = next((value for name, value in scope["headers"] if name == _REQUEST_ID_KEY), None)
        given = header.decode("latin-1") if header is not None else None
        if not given:
            request_id = uuid4().hex
        elif not is_valid_uuid4(given):
            request_id = uuid4().hex
            _correlation_log.warning(FAILED_VALIDATION_MESSAGE, request_id)
        else:
            request_id = given
        if request_id != given:
            MutableHeaders(scope=scope)[REQUEST_ID] = request_id
        correlation_id.set(request_id)
        self.sentry(request_id)
        return request_id

    async def _limited(self, exchange: _Exchange, receive: Receive) -> None:
        scope = exchange.scope
        if self.limiter is not None:
            refusal = await self.limiter.refusal(scope)
            if refusal is not None:
                await exchange.send_response(refusal)
                return
        if scope["method"] == "POST":
            body = await guarded_body(scope, receive, self.max_body_bytes, self.body_timeout)
            if body is None:  # the client left
                return
            if isinstance(body, Response):
                await exchange.send_response(body)
                return
            receive = replay(body)
        try:
            async with asyncio.timeout(self.deadline_seconds):
                await self._answer(exchange, receive)
        except TimeoutError:
            if exchange.started:
                raise
            await exchange.send_response(too_late(scope))

    async def _answer(self, exchange: _Exchange, receive: Receive) -> None:
        request = Request(exchange.scope, receive)
        try:
            await exchange.send_response(await self.endpoint(request))
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            if exchange.started:
                raise _StartedError(
                    "Caught handled exception, but response already started."
                ) from exc
            await exchange.send_response(await _handled(handler, request, exc))
            exc.__traceback__ = None  # as Starlette: a reused exception's grows

    def _handler(self, exc: Exception) -> Handler | None:
        if isinstance(exc, HTTPException) and exc.status_code in self.status_handlers:
            return self.status_handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self.handlers:
                return self.handlers[cls]
        return None


async def _handled(handler: Handler, request: Request, exc: Exception) -> Response:
    """The handler's answer; a plain function runs in the thread pool, as in Starlette."""
    if inspect.iscoroutinefunction(handler):
        return cast(Response, await handler(request, exc))
    return cast(Response, await run_in_threadpool(handler, request, exc))


class _Exchange:
    """One request's answer: sent once, with the headers every layer added."""

    __slots__ = ("hardening", "request_id", "scope", "send", "started")

    def __init__(self, scope: Scope, send: Send, hardening: HardeningHeaders) -> None:
        self.scope = scope
        self.send = send
        self.hardening = hardening
        self.request_id = ""
        self.started = False

    async def send_response(self, response: Response) -> None:
        headers = [*response.raw_headers, (_REQUEST_ID_KEY, self.request_id.encode("latin-1"))]
        self.hardening.add_to(headers, self.scope["path"])
        await self._send(response, headers)

    async def send_bare(self, response: Response) -> None:
        await self._send(response, response.raw_headers)

    async def _send(self, response: Response, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = True
        await self.send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await self.send({"type": "http.response.body", "body": response.body})
        if response.background is not None:
            await response.background()


class GalleryApp(FastAPI):
    """FastAPI, with `front` (when set) answering `GET` and `POST /graphql`."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self.front
        if (
            front is not None
            and scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] in METHODS
            and not scope.get("root_path")
            and not self._native_telemetry.enabled()
        ):
            scope["app"] = self
            await front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
