"""Where the database is, and the async engine that talks to it."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.settings import Settings

STATEMENT_CACHE_SIZE = 2_048
"""SQLAlchemy's compiled-statement cache per engine: room for every page shape
`gallery/page_sql.py` keeps (half of it) besides the other statements."""


def resolve_database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """DATABASE_URL when set (always wins), else the embedded cluster's URL.

    Plain `postgresql://` URLs are given the asyncpg driver.
    """
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    cluster = EmbeddedCluster(settings.home)
    if start_embedded:
        return cluster.start()
    return cluster.url()


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """The application's engine: explicit pool, liveness check on checkout, timeouts."""
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
            "command_timeout": settings.statement_timeout_ms / 1000 + 1,
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
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pessimistic disconnect handling in one round trip: on failure the pool retries with
    a fresh connection, so no request fails on a connection the server dropped (restart,
    killed backend). `pool_pre_ping` wraps its ping in BEGIN and ROLLBACK for asyncpg:
    three round trips on every checkout, a page's biggest fixed cost."""
    driver = dbapi_connection.driver_connection
    try:
        if driver.is_closed():
            raise ConnectionError("closed by the server")
        await_(driver.execute("SELECT 1"))
    except Exception as exc:  # any failure means: not this connection
        raise DisconnectionError(f"connection unusable: {type(exc).__name__}") from exc


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same pool for reads: each statement stands alone (no BEGIN/ROLLBACK round trips).
    Reads must not rely on a snapshot spanning statements."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")
