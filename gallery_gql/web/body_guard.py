"""Rejects oversized, slow and non-UTF-8 request bodies before the GraphQL layer reads them.

Strawberry would read any size, and answers a non-UTF-8 JSON body with a 500. The body is
read within `timeout` seconds (→ 408 `TIMEOUT`): it is read before the request deadline
starts, and a trickled body held a connection for as long as its sender liked. A client
that disconnects mid-body is not served the part it sent.
"""

from __future__ import annotations

import asyncio

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
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject_size(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(receive)
        except _BodyTooLargeError:
            await self._reject_size(scope, receive, send)
            return
        except _DisconnectedError:
            return
        except TimeoutError:
            response = error_response(
                scope,
                408,
                ErrorCode.TIMEOUT,
                f"the request body was not received within {self.timeout:g} s",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            response = error_response(
                scope, 400, ErrorCode.BAD_REQUEST, "the request body is not valid UTF-8"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _DisconnectedError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _reject_size(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            scope, 413, ErrorCode.BAD_USER_INPUT, f"the request body exceeds {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
