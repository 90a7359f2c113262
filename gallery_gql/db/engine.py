"""Where the database is, and the async engine that talks to it."""

from __future__ import annotations

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.settings import Settings


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
    """The application's engine: explicit pool, pre-ping, per-statement timeout."""
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_seconds,
        pool_pre_ping=True,
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
                "application_name": "gallery-gql",
            },
        },
    )
