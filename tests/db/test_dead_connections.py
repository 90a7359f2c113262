"""Pooled connections the server ended: never lent when the driver knows, and otherwise
replaced by running the read (or a write transaction that had not begun) once more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gallery_gql.db.engine import create_engine
from gallery_gql.db.reads import run_read
from gallery_gql.settings import Settings
from tests.factories import write_transaction

BACKEND_PID = text("SELECT pg_backend_pid()")
TERMINATE_SELF = "SELECT pg_terminate_backend(pg_backend_pid())"


async def _pid(conn: AsyncConnection) -> int:
    pid: int = await conn.scalar(BACKEND_PID)
    return pid


async def _terminate(database_url: str, pid: int) -> None:
    """End a backend from outside and wait (at most 5 s) until it is gone."""
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(250):
                alive = await conn.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                if not alive:
                    return
                await asyncio.sleep(0.02)
        raise AssertionError(f"backend {pid} still alive")
    finally:
        await admin.dispose()


@pytest.fixture
async def app_engine(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The application's engine with a pool of one, so the next checkout is the same one."""
    settings = Settings(database_url=database_url, home=tmp_path, pool_size=1)
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def unchecked_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A pool of one that lends whatever it holds: as if the driver had not yet noticed
    that the server ended the connection."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


class Counted:
    """A database step that counts its runs: the statements given, then the backend's pid."""

    def __init__(self, *statements: str) -> None:
        self.statements = statements
        self.calls = 0

    async def __call__(self, conn: AsyncConnection) -> int:
        self.calls += 1
        for statement in self.statements:
            await conn.execute(text(statement))
        return await _pid(conn)


async def _exists(engine: AsyncEngine, table: str) -> bool:
    found: bool = await run_read(
        engine, lambda c: c.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})
    )
    return found


async def test_a_connection_known_closed_is_not_lent(
    app_engine: AsyncEngine, database_url: str
) -> None:
    async def pid_and_driver(conn: AsyncConnection) -> tuple[int, Any]:
        return await _pid(conn), (await conn.get_raw_connection()).driver_connection

    first, driver = await run_read(app_engine, pid_and_driver)
    await _terminate(database_url, first)
    for _ in range(250):  # at most 5 s for the driver to read the server's goodbye
        if driver.is_closed():
            break
        await asyncio.sleep(0.02)
    assert driver.is_closed()
    read = Counted()
    assert await run_read(app_engine, read) != first
    assert read.calls == 1  # refused at checkout: the read never met the dead connection


async def test_a_read_on_a_dead_connection_runs_again(
    unchecked_engine: AsyncEngine, database_url: str
) -> None:
    first = await run_read(unchecked_engine, _pid)
    await _terminate(database_url, first)
    read = Counted()
    assert await run_read(unchecked_engine, read) != first
    assert read.calls == 2


async def test_a_read_runs_again_at_most_once(unchecked_engine: AsyncEngine) -> None:
    dies_every_time = Counted(TERMINATE_SELF)
    with pytest.raises(DBAPIError) as caught:
        await run_read(unchecked_engine, dies_every_time)
    assert caught.value.connection_invalidated
    assert dies_every_time.calls == 2
    assert await run_read(unchecked_engine, _pid) > 0  # the pool recovers


async def test_a_transaction_begun_on_a_dead_connection_starts_again(
    unchecked_engine: AsyncEngine, database_url: str
) -> None:
    first = await run_read(unchecked_engine, _pid)
    await _terminate(database_url, first)
    write = Counted("CREATE TABLE written (n int)")
    assert await write_transaction(unchecked_engine, write) != first
    assert write.calls == 1
    assert await _exists(unchecked_engine, "written")


async def test_a_transaction_that_lost_its_connection_midway_is_not_run_again(
    unchecked_engine: AsyncEngine,
) -> None:
    dies_midway = Counted("CREATE TABLE lost (n int)", TERMINATE_SELF)
    with pytest.raises(DBAPIError):
        await write_transaction(unchecked_engine, dies_midway)
    assert dies_midway.calls == 1
    assert not await _exists(unchecked_engine, "lost")
