"""Statements run under a generic plan (`db/raw.fetch_rows(..., plan=Plan.GENERIC)`) on an
engine that keeps no generic-plan session: planned once per connection, on the caller's
session switched for them, which plans every other statement custom again: after they
answer, after they fail, and (the connection closed) when cancelled. The sessions kept in
generic mode are tests/db/test_generic_sessions.py's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Float, bindparam, func, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.raw import Plan, fetch_rows
from gallery_gql.settings import Settings

SQUARE_ROOT = select(func.sqrt(bindparam("x", type_=Float, required=True)).label("root"))
SLEEP = select(func.pg_sleep(bindparam("seconds", type_=Float, required=True)), literal_column("1"))


@pytest.fixture
async def app_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The application's read engine (autocommit), its pool too small to keep a session in
    generic mode."""
    engine = create_engine(database_url, Settings(database_url=database_url, pool_size=1))
    yield autocommit(engine)
    await engine.dispose()


async def _mode(conn: AsyncConnection) -> str:
    mode: str = await conn.scalar(text("SHOW plan_cache_mode"))
    return mode


async def _plans(conn: AsyncConnection) -> tuple[int, int]:
    row = (
        await conn.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT * FROM (SELECT sqrt(%'"
            )
        )
    ).one()
    return int(row.generic_plans), int(row.custom_plans)


async def test_a_generic_statement_is_planned_once_and_custom_plans_stay(
    app_engine: AsyncEngine,
) -> None:
    async with app_engine.connect() as conn:
        assert await _mode(conn) == "force_custom_plan"
        for x in (4.0, 9.0, 16.0):
            rows = await fetch_rows(conn, SQUARE_ROOT, {"x": x}, plan=Plan.GENERIC)
            assert [row["root"] for row in rows] == [x**0.5]
            assert await _mode(conn) == "force_custom_plan"
        assert await _plans(conn) == (3, 0)
        rows = await fetch_rows(conn, SQUARE_ROOT, {"x": 25.0})
        assert [row["root"] for row in rows] == [5.0]


async def test_a_failed_generic_statement_leaves_custom_plans(app_engine: AsyncEngine) -> None:
    """sqrt(-1) fails as it runs: its transaction (and the setting it made) rolled back."""
    async with app_engine.connect() as conn:
        with pytest.raises(DBAPIError):
            await fetch_rows(conn, SQUARE_ROOT, {"x": -1.0}, plan=Plan.GENERIC)
        assert await _mode(conn) == "force_custom_plan"


async def test_a_failed_generic_statement_in_a_transaction(database_url: str) -> None:
    """In a transaction block the failure aborts it; its rollback restores custom plans."""
    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))  # begins the transaction
            with pytest.raises(DBAPIError):
                await fetch_rows(conn, SQUARE_ROOT, {"x": -1.0}, plan=Plan.GENERIC)
            await conn.rollback()
            assert await _mode(conn) == "force_custom_plan"
    finally:
        await engine.dispose()


async def test_a_cancelled_generic_statement_closes_its_connection(
    app_engine: AsyncEngine,
) -> None:
    async with app_engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(
                fetch_rows(conn, SLEEP, {"seconds": 5.0}, plan=Plan.GENERIC), 0.2
            )
        assert driver.is_closed()
    async with app_engine.connect() as conn:  # the pool lends a fresh one
        assert await _mode(conn) == "force_custom_plan"


async def test_a_first_page_plan_is_custom_without_a_kept_session(app_engine: AsyncEngine) -> None:
    """`Plan.GENERIC_IF_KEPT` does not switch a session: planned custom, no round trip."""
    async with app_engine.connect() as conn:
        for x in (4.0, 9.0):
            rows = await fetch_rows(conn, SQUARE_ROOT, {"x": x}, plan=Plan.GENERIC_IF_KEPT)
            assert [row["root"] for row in rows] == [x**0.5]
        statements = await conn.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT sqrt(%'"
            )
        )
        assert [tuple(row) for row in statements] == [(0, 2)]
