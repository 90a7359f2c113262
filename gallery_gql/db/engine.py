"""Where the database is, and the async engine that talks to it."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.embedded_replicas import embedded_replicas
from gallery_gql.settings import Settings

STATEMENT_CACHE_SIZE = 2_048
"""SQLAlchemy's compiled-statement cache per engine: room for every page shape
`gallery/page_sql.py` keeps (half of it) besides the other statements."""


def _with_driver(text: str) -> str:
    """Plain `postgresql://` URLs are given the asyncpg driver."""
    url = make_url(text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def resolve_database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """DATABASE_URL when set (always wins), else the embedded cluster's URL."""
    if settings.database_url:
        return _with_driver(settings.database_url)
    cluster = EmbeddedCluster(settings.home)
    if start_embedded:
        return cluster.start()
    return cluster.url()


def resolve_replica_urls(settings: Settings) -> list[str]:
    """DATABASE_REPLICA_URLS when set; else, without DATABASE_URL, the embedded cluster's
    running replicas (`gallery-gql db start --replicas N`); else none."""
    if settings.replica_urls:
        return [_with_driver(url) for url in settings.replica_urls]
    if settings.database_url:
        return []
    primary = EmbeddedCluster(settings.home)
    return [replica.url() for replica in embedded_replicas(primary) if replica.status().running]


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """The application's engine: explicit pool, closed connections refused, timeouts."""
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_seconds,
        query_cache_size=STATEMENT_CACHE_SIZE,
        # JSONB columns (item metadata, thumbnails) decode on every row of every page.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        connect_args={
            # Client-side bounds: a silent network must not hang a request forever.
            "timeout": settings.connect_timeout_seconds,
            # Past the server's own limits (writes set theirs per transaction), so the
            # server's timeout, with its SQLSTATE, is what a slow statement meets.
            "command_timeout": max(
                settings.statement_timeout_ms, settings.write_statement_timeout_ms
            )
            / 1000
            + 1,
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "lock_timeout": str(settings.lock_timeout_ms),
                # Pages are LIMITed index walks: JIT compile time (~100 ms when a high
                # cost estimate triggers inlining) never pays back here.
                "jit": "off",
                # asyncpg prepares every statement, and after five runs PostgreSQL may
                # switch to a generic plan that ignores the tag values: 1 s instead of
                # 6 ms for exclusions at full scale, 20 ms instead of 3 ms for ALL at 20k.
                # Without JIT, planning each run costs well under 1 ms (docs/benchmarks.md).
                "plan_cache_mode": "force_custom_plan",
                "application_name": "gallery-gql",
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Never lend a connection the driver knows is closed (the server ended it: restart,
    killed backend); the pool then connects afresh. No round trip: a `SELECT 1` per
    checkout was 7% of a grid page's worker time. A connection that died unnoticed fails
    its first statement instead, and reads (`db/reads.py`) and write transactions
    (`db/transactions.py`) run again once on a fresh one."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("closed by the server")


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same pool for reads: each statement stands alone (no BEGIN/ROLLBACK round trips).
    Reads must not rely on a snapshot spanning statements."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")
