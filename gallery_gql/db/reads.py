"""Reads on pooled connections, run once more when the connection turns out to be dead.

The pool does not ping a connection before lending it (a round trip on every request,
docs/decisions.md): it only refuses connections the driver already knows are closed. A
connection the server dropped a moment ago can still be lent; its first statement then
fails as a disconnect, SQLAlchemy invalidates it and every connection pooled before it,
and the read runs again on a fresh one. Reads change nothing, so running one twice is safe.

Given a request's `ReadRoute` (db/routing.py) instead of an engine, the route picks the
server: a replica when one qualifies, else the primary.

A read wrapped by `on_held_connection` (the compiled path's page read) runs on a
connection its engine keeps checked out between reads (`HeldConnections`): no pool
checkout and check-in, with their events and two greenlet hops (~60 us a read,
docs/benchmarks.md). Everything else is as for any read: the route picks the engine, a
connection the driver knows is closed is not used, a read that met a dead connection
runs again once on a fresh one (and the held connections are given back to the pool).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("gallery_gql.reads")

T = TypeVar("T")


class RoutedReads(Protocol):
    """Reads that choose their own server (db/routing.ReadRoute)."""

    async def run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T: ...


ReadSource = AsyncEngine | RoutedReads
"""What reads run on: an engine, or a request's route (which picks one)."""


def is_stale_connection(error: BaseException) -> bool:
    """The statement failed because its connection was dead (SQLAlchemy has invalidated it)."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def run_read(engine: ReadSource, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`fn(conn)` on a pooled connection of `engine`; on a dead connection, once more on a
    fresh one. `fn` must only read, and only through the connection it is given."""
    if not isinstance(engine, AsyncEngine):
        return await engine.run(fn)
    if isinstance(fn, HeldRead):
        return await _held_read(engine, fn)
    try:
        async with engine.connect() as conn:
            return await fn(conn)
    except DBAPIError as exc:
        if not is_stale_connection(exc):
            raise
        log.info("read on a dead connection; running it again on a fresh one")
    async with engine.connect() as conn:
        return await fn(conn)


class HeldRead(Generic[T]):
    """A read that may run on a held connection (`on_held_connection`)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> None:
        self.fn = fn

    def __call__(self, conn: AsyncConnection) -> Awaitable[T]:
        return self.fn(conn)


def on_held_connection(fn: Callable[[AsyncConnection], Awaitable[T]]) -> HeldRead[T]:
    """`fn`, to be run by `run_read` on a connection its engine holds between reads.
    For reads whose statements all go to the driver (db/raw.py) and leave no state."""
    return HeldRead(fn)


HELD_SHARE = 4
"""An engine holds at most a quarter of its pool's size (none below 4): the rest stays
for the general path, loaders and writes. Only autocommit engines hold any: a held
connection must carry no transaction from one read to the next."""


class HeldConnections:
    """Connections checked out of one engine's pool and kept, idle, for held reads. They
    count as checked out in the pool's figures. The engine's disposal closes them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.capacity = kept_capacity(engine, HELD_SHARE)
        self.engine = engine
        self.idle: list[AsyncConnection] = []
        on_disposal(engine, self._disposed)

    def take(self) -> AsyncConnection | None:
        """An idle connection the driver has not seen closed, or None."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if usable(conn):
                return conn
            drop_now(conn)
        return None

    async def give_back(self, conn: AsyncConnection) -> None:
        if len(self.idle) < self.capacity and usable(conn):
            self.idle.append(conn)
        else:
            await conn.close()

    async def release_all(self) -> None:
        """Every idle connection back to the pool (a dead one met: others may be too)."""
        idle, self.idle = self.idle, []
        for conn in idle:
            await conn.close()

    def _disposed(self, _engine: Engine) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            drop_now(conn)


def kept_capacity(engine: AsyncEngine, share: int) -> int:
    """How many connections `engine` may keep out of its pool for one purpose: a `share`-th
    of its pool's size, and none unless it autocommits (a kept connection must carry no
    transaction from one use to the next)."""
    pool = engine.sync_engine.pool
    size = pool.size() if hasattr(pool, "size") else 0
    autocommits = engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    return size // share if autocommits else 0


def on_disposal(engine: AsyncEngine, fn: Callable[[Engine], None]) -> None:
    """`fn` called when `engine`'s pool is disposed (an engine with options shares its
    base engine's pool: the base's event is the one fired)."""
    base = engine.sync_engine
    while isinstance(getattr(base, "_proxied", None), Engine):
        base = base._proxied  # type: ignore[attr-defined]
    event.listen(base, "engine_disposed", fn)


def usable(conn: AsyncConnection) -> bool:
    """Neither SQLAlchemy nor the driver knows the connection to be closed."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return False
    driver: Any = sync.connection.driver_connection
    return not driver.is_closed()


def drop_now(conn: AsyncConnection) -> None:
    """Close a connection kept out of the pool without awaiting: invalidated, its record
    goes back to the pool empty (SQLAlchemy terminates the driver's connection)."""
    sync = conn.sync_connection
    if sync is not None and not sync.closed:
        try:
            sync.invalidate()
        finally:
            sync.close()


class PerEngine(Generic[T]):
    """`make(engine)` once per engine, forgotten with the engine."""

    def __init__(self, make: Callable[[AsyncEngine], T]) -> None:
        self.make = make
        self.made: weakref.WeakKeyDictionary[AsyncEngine, T] = weakref.WeakKeyDictionary()

    def __call__(self, engine: AsyncEngine) -> T:
        made = self.made.get(engine)
        if made is None:
            made = self.made[engine] = self.make(engine)
        return made


held_connections = PerEngine(HeldConnections)


async def _held_read(engine: AsyncEngine, read: HeldRead[T]) -> T:
    held = held_connections(engine)
    conn = held.take()
    if conn is None:
        conn = engine.connect()
        await conn.start()
    try:
        result = await read.fn(conn)
    except BaseException as exc:
        await asyncio.shield(conn.close())
        if not is_stale_connection(exc):
            raise
        log.info("read on a dead connection; running it again on a fresh one")
        await held.release_all()
        async with engine.connect() as fresh:
            return await read.fn(fresh)
    await held.give_back(conn)
    return result
