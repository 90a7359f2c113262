"""What a worker keeps beside its pools: dedicated asyncpg connections (the replica
monitor's, the LISTEN connection) and the background tasks that own them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://…`) as the DSN asyncpg connects with."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(dsn: str, application: str, connect_timeout: float) -> Any:
    """One connection outside any pool, named in `pg_stat_activity`."""
    return await asyncpg.connect(
        dsn, timeout=connect_timeout, server_settings={"application_name": application}
    )


def close(connection: Any) -> None:
    """Drop a dedicated connection at once (it may already be dead)."""
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.terminate()


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
