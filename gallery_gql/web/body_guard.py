"""Rejects oversized, slow and non-UTF-8 request bodies before the GraphQL layer reads them.

Strawberry would read any size, and answers a non-UTF-8 JSON body with a 500. The body is
read within `timeout` seconds (→ 408 `TIMEOUT`): it is read before the request deadline
starts, and a trickled body held a connection for as long as its sender liked. A client
that disconnects mid-body is not served the part it sent.
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.responses import error_response


class _BodyTooLargeError(Exception):
    pass


class _DisconnectedError(Exception):
    pass


class BodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await guarded_body(scope, receive, self.max_bytes, self.timeout)
        if isinstance(body, bytes):
            await self.app(scope, replay(body), send)
        elif body is not None:
            await body(scope, receive, send)


async def guarded_body(
    scope: Scope, receive: Receive, max_bytes: int, seconds: float
) -> bytes | Response | None:
    """A request's whole body; or the answer refusing it (413, 408, 400); or None when
    the client disconnected before sending all of it (nothing is answered). The body
    must arrive within `seconds`."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return _too_large(scope, max_bytes)
    try:
        async with asyncio.timeout(seconds):
            body = await _read(receive, max_bytes)
    except _BodyTooLargeError:
        return _too_large(scope, max_bytes)
    except _DisconnectedError:
        return None
    except TimeoutError:
        return error_response(
            scope,
            408,
            ErrorCode.TIMEOUT,
            f"the request body was not received within {seconds:g} s",
            headers={"Connection": "close"},
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(
            scope, 400, ErrorCode.BAD_REQUEST, "the request body is not valid UTF-8"
        )
    return body


async def _read(receive: Receive, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _DisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(scope: Scope, max_bytes: int) -> Response:
    return error_response(
        scope, 413, ErrorCode.BAD_USER_INPUT, f"the request body exceeds {max_bytes} bytes"
    )


def replay(body: bytes) -> Receive:
    """A `receive` that gives `body` whole, then a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
