"""One write transaction (db/transactions.py): its timeouts, the SQLSTATE found on any
error (db/failures.py), deadlocks run again, other errors not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.failures import sqlstate
from tests.factories import Dataset, build_gallery, write_transaction


@pytest.fixture
async def dataset(engine: AsyncEngine) -> Dataset:
    return await build_gallery(engine, regular=20, auto=30)


async def test_transaction_sets_write_timeouts(engine: AsyncEngine) -> None:
    async def show(conn: AsyncConnection) -> tuple[str, str]:
        lock = (await conn.execute(text("SHOW lock_timeout"))).scalar_one()
        statement = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
        return lock, statement

    assert await write_transaction(engine, show) == ("1s", "5s")
    async with engine.connect() as conn:  # SET LOCAL: gone with the transaction
        assert (await conn.execute(text("SHOW lock_timeout"))).scalar_one() == "0"


async def test_sqlstate_is_found_on_sqlalchemy_errors(engine: AsyncEngine) -> None:
    async def fail(conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT 1/0"))

    with pytest.raises(DBAPIError) as caught:
        await write_transaction(engine, fail)
    assert sqlstate(caught.value) == "22012"  # division_by_zero: not retried
    assert caught.value.orig is not None
    assert getattr(caught.value.orig, "sqlstate", None) == "22012"


async def test_deadlocks_are_retried(engine: AsyncEngine, dataset: Dataset) -> None:
    """Two transactions lock two rows in opposite orders: PostgreSQL aborts one, which
    runs again and succeeds. (The lock timeout is raised above `deadlock_timeout`, 1 s by
    default, so the deadlock is detected before the lock wait times out.)"""
    attempts: list[str] = []
    both_locked_first = asyncio.Barrier(2)

    def crossing(first: int, second: int, name: str) -> Any:
        async def fn(conn: AsyncConnection) -> None:
            attempts.append(name)
            lock = "SELECT id FROM content_items WHERE id = :id FOR UPDATE"
            await conn.execute(text(lock), {"id": first})
            if len(attempts) <= 2:
                await both_locked_first.wait()
            await conn.execute(text(lock), {"id": second})

        return fn

    await asyncio.gather(
        write_transaction(engine, crossing(1, 2, "a"), lock_timeout_ms=10_000),
        write_transaction(engine, crossing(2, 1, "b"), lock_timeout_ms=10_000),
    )
    assert len(attempts) == 3  # one of the two ran twice


async def test_non_retryable_errors_are_not_retried(engine: AsyncEngine) -> None:
    calls = 0

    async def fail(conn: AsyncConnection) -> None:
        nonlocal calls
        calls += 1
        await conn.execute(text("SELECT CAST('x' AS int)"))

    with pytest.raises(DBAPIError):
        await write_transaction(engine, fail)
    assert calls == 1
