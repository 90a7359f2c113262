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

A statement whose SQL fixes its plan whatever its values (`generic_plan=True`) runs
under a generic plan: PostgreSQL plans it once per connection and reuses the plan, where
the connections' `force_custom_plan` (db/engine.py) would plan it on every execution
(0.1-0.2 ms, most of a rare tag's page). The setting is per session, so the session is
switched to generic plans just before the statement (one short round trip), and the
statement itself switches it back to custom plans as it starts (a one-time filter), so
no other statement ever runs under a generic plan (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from gallery_gql.db.engine import STATEMENT_CACHE_SIZE

_REQUIRED = object()

GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"
CUSTOM_PLANS = "SET plan_cache_mode = force_custom_plan"
_CUSTOM_AGAIN = "set_config('plan_cache_mode', 'force_custom_plan', false)"


class NotRawCompilableError(ValueError):
    """The statement needs SQLAlchemy at execution time (expanding or computed binds)."""


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class RawStatement:
    sql: str
    slots: tuple[tuple[str, Any, Processor], ...]
    """Per positional parameter: the bind's key, its constant value (or _REQUIRED: taken
    from the request's parameters), and the type's bind processor (arrays: lists)."""
    generic_plan: bool = False
    """Run under a generic plan; `sql` sets the session back to custom plans."""

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
def raw_statement(
    statement: ClauseElement, dialect: Dialect, generic_plan: bool = False
) -> RawStatement:
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
    if generic_plan:
        return RawStatement(_custom_plans_again(compiled.string), tuple(slots), True)
    return RawStatement(compiled.string, tuple(slots))


async def fetch_rows(
    conn: AsyncConnection,
    statement: ClauseElement,
    params: Mapping[str, Any],
    *,
    generic_plan: bool = False,
) -> Sequence[asyncpg.Record]:
    """The statement's rows, run on `conn`'s driver connection; with `generic_plan`,
    under a generic plan (the module's docstring: only for statements whose SQL fixes
    their plan)."""
    raw = raw_statement(statement, conn.dialect, generic_plan)
    arguments = raw.arguments(params)
    sync = conn.sync_connection
    if sync is not None and (sync._has_events or sync.engine._has_events):
        # A connection made before the engine had listeners (one held between reads,
        # db/reads.py) does not carry them: the engine's own are told then.
        dispatch = sync.dispatch if sync._has_events else sync.engine.dispatch
        for listener in dispatch.before_cursor_execute:
            if raw.generic_plan:
                listener(sync, None, GENERIC_PLANS, (), None, False)
            listener(sync, None, raw.sql, tuple(arguments), None, False)
    if sync is not None and not sync.closed and not sync.invalidated:
        fairy = sync.connection  # checked out already: no greenlet hop to look it up
    else:
        fairy = await conn.get_raw_connection()
    driver: asyncpg.Connection = fairy.driver_connection
    try:
        if raw.generic_plan:
            return await _fetch_generic(driver, raw, arguments)
        rows: list[asyncpg.Record] = await driver.fetch(raw.sql, *arguments)
        return rows
    except Exception as error:
        dead = driver.is_closed() or isinstance(
            error, asyncpg.exceptions.ConnectionDoesNotExistError | ConnectionError
        )
        if dead:
            await conn.invalidate(error)
        raise sa_exc.DBAPIError(raw.sql, arguments, error, connection_invalidated=dead) from error


async def _fetch_generic(
    driver: asyncpg.Connection, raw: RawStatement, arguments: list[Any]
) -> list[asyncpg.Record]:
    """`raw` under a generic plan. Should it fail or be cancelled before it set custom
    plans again, the session must not go on planning other statements generically: it
    is set back, or (cancelled, or that fails too) the connection is closed (the pool
    lends no closed connection). A failed transaction block needs nothing: its rollback
    restores the setting it started with."""
    try:
        await driver.execute(GENERIC_PLANS)
        rows: list[asyncpg.Record] = await driver.fetch(raw.sql, *arguments)
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
