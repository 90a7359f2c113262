"""Reads on pooled connections, run once more when the connection turns out to be dead.

The pool does not ping a connection before lending it (a round trip on every request,
docs/decisions.md): it only refuses connections the driver already knows are closed. A
connection the server dropped a moment ago can still be lent; its first statement then
fails as a disconnect, SQLAlchemy invalidates it and every connection pooled before it,
and the read runs again on a fresh one. Reads change nothing, so running one twice is safe.

Given a request's `ReadRoute` (db/routing.py) instead of an engine, the route picks the
server: a replica when one qualifies, else the primary.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

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
    try:
        async with engine.connect() as conn:
            return await fn(conn)
    except DBAPIError as exc:
        if not is_stale_connection(exc):
            raise
        log.info("read on a dead connection; running it again on a fresh one")
    async with engine.connect() as conn:
        return await fn(conn)
