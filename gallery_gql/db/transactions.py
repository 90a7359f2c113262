"""Write transactions: bounded timeouts, and retries when PostgreSQL picks us as the victim.

A deadlock (SQLSTATE 40P01) or serialization failure (40001) aborts the whole transaction;
running it again from the start is the documented cure. `fn` must therefore be safe to
run more than once: it may only touch the database through the connection it is given.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.failures import DEADLOCK_DETECTED, SERIALIZATION_FAILURE, sqlstate
from gallery_gql.db.reads import is_stale_connection

log = logging.getLogger("gallery_gql.transactions")

T = TypeVar("T")

RETRYABLE_STATES = frozenset({DEADLOCK_DETECTED, SERIALIZATION_FAILURE})

_BASE_DELAY = 0.005
_MAX_DELAY = 0.25

_SET_TIMEOUTS = text(
    "SELECT set_config('lock_timeout', :lock_timeout, true), "
    "set_config('statement_timeout', :statement_timeout, true)"
)


def is_retryable(error: BaseException) -> bool:
    """Whether running the whole transaction again may succeed (deadlock, serialization)."""
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_STATES


def backoff_delay(attempt: int) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(_MAX_DELAY, _BASE_DELAY * 2**attempt))  # noqa: S311


async def run_in_transaction(
    engine: AsyncEngine,
    fn: Callable[[AsyncConnection], Awaitable[T]],
    *,
    lock_timeout_ms: int,
    statement_timeout_ms: int,
    attempts: int = 5,
) -> T:
    """`fn(conn)` inside one transaction, committed when it returns and rolled back when it
    raises. `SET LOCAL` timeouts bound every lock wait and statement. On a deadlock or
    serialization failure the transaction is retried from the start, at most `attempts`
    times in all, after a short jittered pause; the last failure is re-raised. A dead
    connection found by the first statement (the pool does not ping) counts as an attempt
    and is replaced at once; a connection lost later is not retried, since a lost COMMIT
    may have committed."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        started = False
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    _SET_TIMEOUTS,
                    {
                        "lock_timeout": f"{lock_timeout_ms}ms",
                        "statement_timeout": f"{statement_timeout_ms}ms",
                    },
                )
                started = True
                return await fn(conn)
        except DBAPIError as exc:
            if attempt < attempts and not started and is_stale_connection(exc):
                # Nothing of the transaction reached the server: run it on a fresh one.
                log.info("transaction began on a dead connection; starting it again")
                continue
            if attempt == attempts or not is_retryable(exc):
                raise
            log.info("retrying transaction (attempt %d, SQLSTATE %s)", attempt, sqlstate(exc))
        await asyncio.sleep(backoff_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
