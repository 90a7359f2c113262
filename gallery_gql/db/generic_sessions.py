"""Sessions that plan every statement generically, for the statements whose SQL fixes
their plan whatever their values (db/raw.py: `fetch_rows(..., plan=Plan.GENERIC)`).

The application's connections plan each statement afresh (`force_custom_plan`,
db/engine.py): some walks need their values planned. A statement whose plan is the same
for any values (a matching set, gallery/query/matching_sql.py; the walks that
`sql.walks_plan` names) is better planned once per session: 0.005-0.06 ms instead of
0.1-1.1 ms a run. Switching a session to generic plans
and back costs a round trip; a session kept in generic mode costs none. So each
autocommit engine keeps a few connections of its own pool in generic mode, idle between
such statements, and lends one for the statement alone (the caller's connection is of
the same engine: the same server, so the route's choice and read-your-writes hold).

A session is set to generic plans once, when it is opened, and is never given back to
the pool: when it is dropped (the driver found it closed, a statement was cancelled or
met a dead connection, the engine was disposed) its connection is invalidated, so the
pool never lends a connection planning generically to anything else.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.reads import PerEngine, drop_now, kept_capacity, on_disposal, usable

GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"

SESSION_SHARE = 2
"""An engine keeps at most half its pool's size in generic mode (none below 2): most
page statements run on these sessions (the rest of the pool: held reads, loaders,
writes)."""


class GenericSessions:
    """One engine's generic-plan sessions: `take` one (opened when fewer than the
    capacity are open), run one statement on its driver, `give_back` or `drop` it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.capacity = kept_capacity(engine, SESSION_SHARE)
        self.engine = engine
        self.idle: list[AsyncConnection] = []
        self.open = 0
        """Sessions opened and not dropped: idle, lent, or being opened."""
        on_disposal(engine, self._disposed)

    async def take(self) -> AsyncConnection | None:
        """An idle session, a new one while fewer than the capacity are open and the pool
        has one to spare, else None (the caller plans the statement another way)."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if usable(conn):
                return conn
            self.drop(conn)
        if self.open >= self.capacity or not self._pool_has_room():
            return None
        self.open += 1
        conn = self.engine.connect()
        try:
            await conn.start()
            await driver_of(conn).execute(GENERIC_PLANS)
        except Exception:
            # The caller's own connection reads instead (and meets whatever failed here).
            self.drop(conn)
            return None
        except BaseException:
            self.drop(conn)
            raise
        return conn

    def _pool_has_room(self) -> bool:
        """A session is opened only when the pool can lend a connection at once, never by
        waiting for one: the caller's connection can read instead."""
        pool: Any = self.engine.sync_engine.pool
        most = pool.size() + max(getattr(pool, "_max_overflow", 0), 0)
        return bool(pool.checkedout() < most)

    def give_back(self, conn: AsyncConnection) -> None:
        if usable(conn):
            self.idle.append(conn)
        else:
            self.drop(conn)

    def drop(self, conn: AsyncConnection) -> None:
        """Close the session's connection for good (never back to the pool as it is)."""
        self.open -= 1
        drop_now(conn)

    def drop_idle(self) -> None:
        """Every idle session closed (a dead one met: the others may be too)."""
        idle, self.idle = self.idle, []
        for conn in idle:
            self.drop(conn)

    def _disposed(self, _engine: Engine) -> None:
        self.drop_idle()


def driver_of(conn: AsyncConnection) -> asyncpg.Connection:
    sync = conn.sync_connection
    assert sync is not None  # a started connection
    driver: asyncpg.Connection = sync.connection.driver_connection
    return driver


generic_sessions = PerEngine(GenericSessions)
