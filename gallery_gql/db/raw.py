"""Hot reads run on the driver itself: a Core statement compiled once for asyncpg, then
executed as asyncpg's cached prepared statement, rows handed out as asyncpg records.

SQLAlchemy built and cached the page statements already; executing them through it still
cost an execution context, result processing and a Row per row on every request (0.12 ms
of a page's ~0.22 ms of client time, docs/benchmarks.md). The SQL sent is the very text
SQLAlchemy would send, with the same bind values, so plans and results are the same.

The read still runs on the connection `db/reads.run_read` lends (so its server is the one
the read path chose), and a failure is raised as SQLAlchemy's `DBAPIError` around the
driver's error: `db/failures.classify` and the dead-connection rerun see it as they see
any other read's. Statement listeners on the engine (tests count statements) are told
of each statement, as SQLAlchemy would tell them.

A statement whose SQL fixes its plan whatever its values runs under a generic plan
(`plan=Plan.GENERIC`): PostgreSQL plans it once per session and reuses the plan, where the
connections' `force_custom_plan` (db/engine.py) would plan it on every execution (0.1-0.25
ms, most of a rare tag's page). It runs on one of the engine's sessions kept in generic
mode (db/generic_sessions.py: no round trip). When none is to be had (all lent, or the
engine keeps none), the caller's session is switched to generic plans just before the
statement (one short round trip), and the statement itself switches it back to custom
plans as it starts (a one-time filter), so no other statement ever runs under a generic
plan on it (docs/decisions.md); `Plan.GENERIC_IF_KEPT` plans custom instead, for a
statement whose custom plan costs about what that round trip does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from gallery_gql.db.engine import STATEMENT_CACHE_SIZE
from gallery_gql.db.generic_sessions import (
    GENERIC_PLANS,
    GenericSessions,
    driver_of,
    generic_sessions,
)

_REQUIRED = object()

CUSTOM_PLANS = "SET plan_cache_mode = force_custom_plan"
_CUSTOM_AGAIN = "set_config('plan_cache_mode', 'force_custom_plan', false)"


class NotRawCompilableError(ValueError):
    """The statement needs SQLAlchemy at execution time (expanding or computed binds)."""


Processor = Callable[[Any], Any] | None


class Plan(Enum):
    """How a statement is planned (the module's docstring)."""

    CUSTOM = "custom"
    """Afresh on every run: the connections' mode."""
    GENERIC = "generic"
    """Once per session: on a generic-plan session, else on the caller's, switched."""
    GENERIC_IF_KEPT = "generic if kept"
    """Once per session on a generic-plan session; custom when none is to be had."""


@dataclass(frozen=True, slots=True)
class RawStatement:
    sql: str
    slots: tuple[tuple[str, Any, Processor], ...]
    """Per positional parameter: the bind's key, its constant value (or _REQUIRED: taken
    from the request's parameters), and the type's bind processor (arrays: lists)."""
    switched_sql: str
    """`sql` that sets the session back to custom plans: run on a session switched to
    generic plans for it."""

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for key, value, process in self.slots:
            if value is _REQUIRED:
                value = params[key]
                if process is not None:
                    value = process(value)
            out.append(value)
        return out


def _custom_plans_again(sql: str) -> str:
    """`sql` (a SELECT) that first sets the session back to custom plans: a one-time
    filter, run once before any row is read, even when there are none."""
    return f"SELECT * FROM ({sql}) AS generic WHERE (SELECT {_CUSTOM_AGAIN}) IS NOT NULL"


@lru_cache(maxsize=STATEMENT_CACHE_SIZE)
def raw_statement(statement: ClauseElement, dialect: Dialect) -> RawStatement:
    """`statement` compiled for `dialect` (asyncpg's numeric placeholders), once. The
    statement must be an object built once (its identity is the cache key)."""
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise NotRawCompilableError("not a positional dialect")
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    processors: Mapping[str, Any] = compiled._bind_processors
    slots: list[tuple[str, Any, Processor]] = []
    for name in compiled.positiontup:
        bind = binds[name]
        if bind.expanding or bind.callable is not None:
            raise NotRawCompilableError(f"bind {name} needs SQLAlchemy")
        process = processors.get(name)
        if bind.required:
            slots.append((bind.key, _REQUIRED, process))
        else:
            slots.append((bind.key, process(bind.value) if process else bind.value, None))
    sql = compiled.string
    return RawStatement(sql, tuple(slots), _custom_plans_again(sql))


async def fetch_rows(
    conn: AsyncConnection,
    statement: ClauseElement,
    params: Mapping[str, Any],
    *,
    plan: Plan = Plan.CUSTOM,
) -> Sequence[asyncpg.Record]:
    """The statement's rows, run on `conn`'s driver connection, or under a generic `plan`
    on a generic-plan session of `conn`'s engine (the module's docstring: only for
    statements whose SQL fixes their plan)."""
    raw = raw_statement(statement, conn.dialect)
    arguments = raw.arguments(params)
    sessions = session = None
    if plan is not Plan.CUSTOM:
        sessions = generic_sessions(conn.engine)
        session = await sessions.take()
    switched = session is None and plan is Plan.GENERIC
    sql = raw.switched_sql if switched else raw.sql
    sync = conn.sync_connection
    if sync is not None and (sync._has_events or sync.engine._has_events):
        # A connection made before the engine had listeners (one held between reads,
        # db/reads.py) does not carry them: the engine's own are told then.
        dispatch = sync.dispatch if sync._has_events else sync.engine.dispatch
        for listener in dispatch.before_cursor_execute:
            if switched:
                listener(sync, None, GENERIC_PLANS, (), None, False)
            listener(sync, None, sql, tuple(arguments), None, False)
    if session is not None:
        assert sessions is not None
        return await _fetch_on_session(sessions, session, sql, arguments)
    if sync is not None and not sync.closed and not sync.invalidated:
        fairy = sync.connection  # checked out already: no greenlet hop to look it up
    else:
        fairy = await conn.get_raw_connection()
    driver: asyncpg.Connection = fairy.driver_connection
    try:
        if switched:
            return await _fetch_switched(driver, sql, arguments)
        rows: list[asyncpg.Record] = await driver.fetch(sql, *arguments)
        return rows
    except Exception as error:
        dead = _is_dead(driver, error)
        if dead:
            await conn.invalidate(error)
        raise sa_exc.DBAPIError(sql, arguments, error, connection_invalidated=dead) from error


def _is_dead(driver: asyncpg.Connection, error: Exception) -> bool:
    return driver.is_closed() or isinstance(
        error, asyncpg.exceptions.ConnectionDoesNotExistError | ConnectionError
    )


async def _fetch_on_session(
    sessions: GenericSessions, session: AsyncConnection, sql: str, arguments: list[Any]
) -> list[asyncpg.Record]:
    """`sql` on a generic-plan session, given back after. A dead one is dropped with every
    idle one (the server may have ended them all) and raised as a dead connection, so the
    read runs again (db/reads.py); one cancelled mid-statement is dropped."""
    driver = driver_of(session)
    try:
        rows: list[asyncpg.Record] = await driver.fetch(sql, *arguments)
    except Exception as error:
        dead = _is_dead(driver, error)
        if dead:
            sessions.drop(session)
            sessions.drop_idle()
        else:
            sessions.give_back(session)
        raise sa_exc.DBAPIError(sql, arguments, error, connection_invalidated=dead) from error
    except BaseException:
        sessions.drop(session)
        raise
    sessions.give_back(session)
    return rows


async def _fetch_switched(
    driver: asyncpg.Connection, sql: str, arguments: list[Any]
) -> list[asyncpg.Record]:
    """`sql` (a statement's `switched_sql`) under a generic plan on a session switched to
    generic plans for it. Should it fail or be cancelled before it set custom
    plans again, the session must not go on planning other statements generically: it
    is set back, or (cancelled, or that fails too) the connection is closed (the pool
    lends no closed connection). A failed transaction block needs nothing: its rollback
    restores the setting it started with."""
    try:
        await driver.execute(GENERIC_PLANS)
        rows: list[asyncpg.Record] = await driver.fetch(sql, *arguments)
        return rows
    except Exception:
        if not driver.is_closed():
            try:
                await driver.execute(CUSTOM_PLANS)
            except asyncpg.exceptions.InFailedSQLTransactionError:
                pass
            except Exception:
                driver.terminate()
        raise
    except BaseException:
        driver.terminate()
        raise
