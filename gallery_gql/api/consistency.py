"""Read-your-writes across requests: the consistency token.

A response to an operation that wrote carries `extensions.consistency.token`, the
primary's WAL position after the write (PostgreSQL's `pg_lsn` text, e.g. `0/3A1F2B8`).
A request sending it back in the `X-Consistency-Token` header is read only from servers
that have replayed that position (a replica that has, else the primary). Signed-in
viewers need not send it: the gateway remembers each viewer's last write position for
`consistency_window_seconds` (db/write_positions.py). Without replicas every read is on
the primary and the token changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from gallery_gql.db.lsn import InvalidLsnError, format_lsn, parse_lsn
from gallery_gql.db.reads import run_read
from gallery_gql.db.routing import ReadRoute, ReadRouter
from gallery_gql.db.write_positions import UNKNOWN

log = logging.getLogger("gallery_gql.consistency")

HEADER = "X-Consistency-Token"
_MAX_TOKEN_LENGTH = 17  # "FFFFFFFF/FFFFFFFF"
# A commit that waited for its flush (any synchronous_commit but `off`) ends at or before
# the flushed position, which replicas reach without waiting for a later commit; an
# asynchronous one may not be flushed yet: the insert position covers it.
_WRITE_POSITION = text(
    "SELECT (CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_flush_lsn() END)::text"
)


class InvalidConsistencyTokenError(ValueError):
    """The X-Consistency-Token header is not a token this API issued."""


def token_position(header: str | None) -> int | None:
    """The WAL position a request's header asks its reads to see, if any."""
    if header is None or not header.strip():
        return None
    if len(header) > _MAX_TOKEN_LENGTH + 2:
        raise InvalidConsistencyTokenError(f"{HEADER} is too long")
    try:
        return parse_lsn(header)
    except InvalidLsnError as exc:
        raise InvalidConsistencyTokenError(
            f"{HEADER} must be a token from `extensions.consistency.token`"
        ) from exc


def request_route(router: ReadRouter, header: str | None) -> ReadRoute:
    """A request's reads, held to its token (InvalidConsistencyTokenError when bad)."""
    return router.route(token_position(header))


async def record_write(primary: AsyncEngine, route: ReadRoute) -> None:
    """After a committed write: the primary's position now covers it. Later reads of the
    request (and the viewer's, for the window) see it, and the response carries it."""
    try:
        position = parse_lsn(
            str(await run_read(primary, lambda conn: conn.scalar(_WRITE_POSITION)))
        )
    except (SQLAlchemyError, OSError, InvalidLsnError) as exc:
        # The write has committed: failing the mutation now would invite a duplicate
        # retry. Without its position, the viewer's reads stay on the primary instead.
        log.warning("WAL position after a write unavailable (%s)", type(exc).__name__)
        await route.wrote(UNKNOWN, issue_token=False)
        return
    await route.wrote(position)


class ConsistencyToken(SchemaExtension):
    """Adds `extensions.consistency.token` to the response of an operation that wrote."""

    def get_results(self) -> dict[str, Any]:
        route = getattr(self.execution_context.context, "reads", None)
        if not isinstance(route, ReadRoute) or route.written_lsn is None:
            return {}
        return {"consistency": {"token": format_lsn(route.written_lsn)}}
