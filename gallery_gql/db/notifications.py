"""PostgreSQL LISTEN/NOTIFY: one dedicated listening connection per worker, fanned out in
process to whoever subscribed to a channel.

Writers send with `notify(conn, channel, payload)` inside their transaction, so a
notification exists only if the write committed. NOTIFY is not replicated to standbys'
listeners: the listener connects to the primary. When its connection is lost (restart,
network), it connects again with backoff and tells every state watcher, since
notifications sent meanwhile are gone: a cache then drops what it holds. A keep-alive
query notices a connection that died silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.dedicated import asyncpg_dsn, close, connect, stop_task

log = logging.getLogger("gallery_gql.notifications")

MAX_PAYLOAD_BYTES = 7_999
"""PostgreSQL's limit on a NOTIFY payload (8,000 bytes, less one)."""

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def notify(conn: AsyncConnection, channel: str, payload: str) -> None:
    """Queue a notification, delivered to every listener when the transaction commits."""
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"NOTIFY payload over {MAX_PAYLOAD_BYTES} bytes")
    await conn.execute(_NOTIFY, {"channel": channel, "payload": payload})


class NotificationListener:
    """Listens on the channels subscribed before `start()`; reconnects until `stop()`."""

    def __init__(
        self,
        url: str,
        *,
        keepalive_seconds: float = 5.0,
        connect_timeout: float = 5.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.keepalive_seconds = keepalive_seconds
        self.connect_timeout = connect_timeout
        self.max_backoff_seconds = max_backoff_seconds
        self._handlers: dict[str, list[Callable[[str], None]]] = {}
        self._watchers: list[Callable[[bool], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self.connected = False
        self._listening = asyncio.Event()
        self.connections = 0
        """How many times a listening connection was established."""

    def subscribe(self, channel: str, handler: Callable[[str], None]) -> None:
        """`handler(payload)` for each notification on `channel` (before `start()`)."""
        if self._task is not None:
            raise RuntimeError("subscribe before start()")
        self._handlers.setdefault(channel, []).append(handler)

    def watch(self, watcher: Callable[[bool], None]) -> None:
        """`watcher(True)` each time listening (re)starts, `watcher(False)` when it stops:
        notifications sent while not listening are lost."""
        self._watchers.append(watcher)

    async def start(self, wait_seconds: float = 0.0) -> None:
        """Listen in the background; wait up to `wait_seconds` for the first connection."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification-listener")
        if wait_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), wait_seconds)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    def _dispatch(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        for handler in self._handlers.get(channel, ()):
            try:
                handler(payload)
            except Exception:
                log.exception("notification handler failed on %s", channel)

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if connected:
            self._listening.set()
        else:
            self._listening.clear()
        for watcher in self._watchers:
            try:
                watcher(connected)
            except Exception:
                log.exception("notification watcher failed")

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self._set_connected(False)
                await self._close()
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff_seconds, backoff * 2)

    async def _listen(self) -> None:
        connection = await connect(self.dsn, "gallery-gql-listener", self.connect_timeout)
        self._connection = connection
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        for channel in self._handlers:
            await connection.add_listener(channel, self._dispatch)
        self.connections += 1
        self._set_connected(True)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.keepalive_seconds)
            if not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=self.connect_timeout)
        raise ConnectionError("the server closed the listening connection")

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        close(connection)
