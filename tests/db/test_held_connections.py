"""Reads on held connections (db/reads.on_held_connection): the same connection from
read to read without a checkout, never one the driver knows is closed, a read that met a
dead one run again once on a fresh one, and the engine's disposal closes what it held."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.raw import fetch_rows
from gallery_gql.db.reads import held_connections, on_held_connection, run_read
from gallery_gql.settings import Settings

BACKEND_PID = select(func.pg_backend_pid().label("pid"))
TERMINATE_SELF = select(func.pg_terminate_backend(func.pg_backend_pid()).label("ended"))


@pytest.fixture
async def reads(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The application's read engine (autocommit), a pool of 8: two connections held."""
    settings = Settings(database_url=database_url, home=tmp_path, pool_size=8)
    engine = autocommit(create_engine(database_url, settings))
    yield engine
    await engine.dispose()


class DriverRead:
    """A read through the driver that counts its runs; the statements of its first
    `dying` runs end their own backend."""

    def __init__(self, dying: int = 0) -> None:
        self.dying = dying
        self.calls = 0

    async def __call__(self, conn: AsyncConnection) -> int:
        self.calls += 1
        if self.calls <= self.dying:
            await fetch_rows(conn, TERMINATE_SELF, {})
        (row,) = await fetch_rows(conn, BACKEND_PID, {})
        pid: int = row["pid"]
        return pid


def _driver(conn: AsyncConnection) -> Any:
    assert conn.sync_connection is not None
    return conn.sync_connection.connection.driver_connection


def _checkouts(engine: AsyncEngine) -> list[Any]:
    seen: list[Any] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *a: seen.append(a))
    return seen


async def test_held_reads_share_a_connection_without_checkouts(reads: AsyncEngine) -> None:
    checkouts = _checkouts(reads)
    pids = {await run_read(reads, on_held_connection(DriverRead())) for _ in range(5)}
    assert len(pids) == 1
    assert len(checkouts) == 1
    assert len(held_connections(reads).idle) == 1
    # a plain read does not take it: a checkout of its own
    assert await run_read(reads, DriverRead()) not in pids
    assert len(checkouts) == 2


async def test_a_held_read_on_a_dead_connection_runs_again_once(reads: AsyncEngine) -> None:
    first = await run_read(reads, on_held_connection(DriverRead()))
    dies_once = DriverRead(dying=1)
    assert await run_read(reads, on_held_connection(dies_once)) != first
    assert dies_once.calls == 2
    dies_every_time = DriverRead(dying=5)
    with pytest.raises(DBAPIError) as caught:
        await run_read(reads, on_held_connection(dies_every_time))
    assert caught.value.connection_invalidated
    assert dies_every_time.calls == 2
    assert await run_read(reads, on_held_connection(DriverRead())) > 0  # recovers


async def test_a_held_connection_the_driver_saw_closed_is_not_used(
    reads: AsyncEngine,
) -> None:
    first = await run_read(reads, on_held_connection(DriverRead()))
    (held,) = held_connections(reads).idle
    driver = _driver(held)
    await driver.close()
    read = DriverRead()
    assert await run_read(reads, on_held_connection(read)) != first
    assert read.calls == 1


async def test_a_failed_held_read_gives_its_connection_back(reads: AsyncEngine) -> None:
    async def refused(conn: AsyncConnection) -> None:
        await fetch_rows(conn, BACKEND_PID, {})
        raise LookupError("the read's own refusal")

    with pytest.raises(LookupError):
        await run_read(reads, on_held_connection(refused))
    assert held_connections(reads).idle == []
    assert reads.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_disposal_closes_held_connections(reads: AsyncEngine) -> None:
    await run_read(reads, on_held_connection(DriverRead()))
    (held,) = held_connections(reads).idle
    driver = _driver(held)
    await reads.dispose()
    assert driver.is_closed()
    assert held_connections(reads).idle == []
    assert await run_read(reads, on_held_connection(DriverRead())) > 0


@pytest.mark.parametrize(("pool_size", "reads_autocommit"), [(3, True), (8, False)])
async def test_small_pools_and_transactions_hold_nothing(
    database_url: str, tmp_path: Path, pool_size: int, reads_autocommit: bool
) -> None:
    settings = Settings(database_url=database_url, home=tmp_path, pool_size=pool_size)
    engine = create_engine(database_url, settings)
    if reads_autocommit:
        engine = autocommit(engine)
    try:
        checkouts = _checkouts(engine)
        for _ in range(3):
            await run_read(engine, on_held_connection(DriverRead()))
        assert held_connections(engine).idle == []
        assert len(checkouts) == 3
    finally:
        await engine.dispose()
