"""Bounds on what one HTTP connection may hold before the application sees a request.

uvicorn's httptools protocol accepts headers of any size and waits for them forever (its
keep-alive timeout only runs between requests): a 4 MB `Authorization` header was
accepted, and headers trickled a byte at a time held connections for as long as the
client liked. This protocol counts the request line and header bytes (→ 431 past
`max_header_bytes`) and gives a connection `header_timeout` seconds from its first byte,
or from connecting, to finish a request's headers (→ 408). The body's read time is
bounded by `web/body_guard.py`; concurrent connections by uvicorn's `limit_concurrency`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


class _RefusedError(Exception):
    """Stops the parser; the protocol has already answered."""


class BoundedHttpProtocol(HttpToolsProtocol):
    max_header_bytes = 16 * 1024
    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False

    @classmethod
    def bounded(cls, max_header_bytes: int, header_timeout: float) -> type[BoundedHttpProtocol]:
        """The protocol class with these bounds (uvicorn instantiates it per connection)."""
        attributes = {"max_header_bytes": max_header_bytes, "header_timeout": header_timeout}
        return type(cls.__name__, (cls,), attributes)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._header_bytes = 0
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_done(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        self._refuse(408, "request headers not received in time")

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            self._refuse(431, f"request headers exceed {self.max_header_bytes} bytes")
            raise _RefusedError

    def _refuse(self, status: int, message: str) -> None:
        self._headers_done()
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        body = message.encode("ascii")
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a parser error; not the one our refusal raised
            super().send_400_response(msg)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()
