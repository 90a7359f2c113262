"""Periodic housekeeping."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.gallery.writes.idempotency import purge_expired


async def purge_idempotency(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            return await purge_expired(conn)
    finally:
        await engine.dispose()
