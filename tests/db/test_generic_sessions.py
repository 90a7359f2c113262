"""Sessions kept in generic mode (db/generic_sessions.py): a statement that fixes its plan
runs on one of them, planned once, without a round trip on the caller's session, which
stays custom; no more are opened than the capacity (the rest switch the caller's
session); a failed statement gives its session back, a cancelled one drops it, one the
server ended is replaced, one that died unnoticed makes the read run again; and no
connection planning generically goes back to the pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Float, bindparam, func, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.generic_sessions import SESSION_SHARE, driver_of, generic_sessions
from gallery_gql.db.raw import Plan, fetch_rows
from gallery_gql.db.reads import run_read
from gallery_gql.settings import Settings

ROOT_AND_PID = select(
    func.sqrt(bindparam("x", type_=Float, required=True)).label("root"),
    func.pg_backend_pid().label("pid"),
)
SLEEP = select(func.pg_sleep(bindparam("seconds", type_=Float, required=True)), literal_column("1"))
POOL_SIZE = 8  # four sessions kept


@pytest.fixture
async def reads(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = Settings(database_url=database_url, home=tmp_path, pool_size=POOL_SIZE)
    engine = autocommit(create_engine(database_url, settings))
    yield engine
    await engine.dispose()


async def _mode(conn: AsyncConnection) -> str:
    mode: str = await conn.scalar(text("SHOW plan_cache_mode"))
    return mode


async def _root_and_pid(conn: AsyncConnection, x: float, plan: Plan) -> tuple[float, int]:
    (row,) = await fetch_rows(conn, ROOT_AND_PID, {"x": x}, plan=plan)
    return row["root"], row["pid"]


async def _session_plans(driver: Any) -> list[tuple[int, int]]:
    rows = await driver.fetch(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
        " WHERE statement LIKE 'SELECT sqrt(%'"
    )
    return [(row[0], row[1]) for row in rows]


@pytest.mark.parametrize("plan", [Plan.GENERIC, Plan.GENERIC_IF_KEPT])
async def test_a_generic_statement_runs_on_a_kept_session_planned_once(
    reads: AsyncEngine, plan: Plan
) -> None:
    sessions = generic_sessions(reads)
    assert sessions.capacity == POOL_SIZE // SESSION_SHARE
    async with reads.connect() as conn:
        own_pid = await conn.scalar(select(func.pg_backend_pid()))
        answers = [await _root_and_pid(conn, x, plan) for x in (4.0, 9.0, 16.0)]
        assert [root for root, _ in answers] == [2.0, 3.0, 4.0]
        assert len({pid for _, pid in answers}) == 1  # one session, reused
        assert answers[0][1] != own_pid
        assert await _mode(conn) == "force_custom_plan"
        assert (await _root_and_pid(conn, 25.0, Plan.CUSTOM))[1] == own_pid
    assert sessions.open == 1
    assert len(sessions.idle) == 1
    driver = driver_of(sessions.idle[0])
    assert await driver.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
    assert await _session_plans(driver) == [(3, 0)]


async def test_no_more_sessions_than_the_capacity(reads: AsyncEngine) -> None:
    """Beyond the capacity a generic statement switches its caller's session (and sets it
    back); a first page's statement is planned custom there."""
    sessions = generic_sessions(reads)

    async def sleep_then_root(plan: Plan) -> tuple[float, int, int, str]:
        async with reads.connect() as conn:
            own_pid: int = (await conn.execute(select(func.pg_backend_pid()))).scalar_one()
            await fetch_rows(conn, SLEEP, {"seconds": 0.3}, plan=plan)
            root, pid = await _root_and_pid(conn, 4.0, Plan.CUSTOM)
            return root, pid, own_pid, await _mode(conn)

    for plan in (Plan.GENERIC, Plan.GENERIC_IF_KEPT):
        answers = await asyncio.gather(*(sleep_then_root(plan) for _ in range(6)))
        assert sessions.open == sessions.capacity == 4
        assert all(
            root == 2.0 and pid == own and mode == "force_custom_plan"
            for root, pid, own, mode in answers
        )


async def test_a_failed_statement_gives_its_session_back(reads: AsyncEngine) -> None:
    sessions = generic_sessions(reads)
    async with reads.connect() as conn:
        _, pid = await _root_and_pid(conn, 4.0, Plan.GENERIC)
        with pytest.raises(DBAPIError) as caught:
            await _root_and_pid(conn, -1.0, Plan.GENERIC)
        assert not caught.value.connection_invalidated
        assert await _root_and_pid(conn, 9.0, Plan.GENERIC) == (3.0, pid)
    assert sessions.open == 1


async def test_a_cancelled_statement_drops_its_session(reads: AsyncEngine) -> None:
    sessions = generic_sessions(reads)
    async with reads.connect() as conn:
        _, first = await _root_and_pid(conn, 4.0, Plan.GENERIC)
        driver = driver_of(sessions.idle[0])
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                fetch_rows(conn, SLEEP, {"seconds": 5.0}, plan=Plan.GENERIC), 0.2
            )
        assert driver.is_closed()
        assert sessions.open == 0
        root, second = await _root_and_pid(conn, 9.0, Plan.GENERIC)
        assert root == 3.0
        assert second != first
    await _every_pooled_connection_plans_custom(reads)


async def test_a_session_the_server_ended_is_replaced(reads: AsyncEngine) -> None:
    """Ended while idle: dropped, not lent (a read meeting one unnoticed fails as a dead
    connection and runs again, db/reads.py)."""
    sessions = generic_sessions(reads)
    _, first = await run_read(reads, lambda conn: _root_and_pid(conn, 4.0, Plan.GENERIC))
    async with reads.connect() as conn:
        await conn.execute(select(func.pg_terminate_backend(first)))
    await asyncio.sleep(0.1)
    root, pid = await run_read(reads, lambda conn: _root_and_pid(conn, 9.0, Plan.GENERIC))
    assert root == 3.0
    assert pid != first
    assert sessions.open == 1


async def test_disposal_closes_the_sessions(reads: AsyncEngine) -> None:
    sessions = generic_sessions(reads)
    async with reads.connect() as conn:
        await _root_and_pid(conn, 4.0, Plan.GENERIC)
    driver = driver_of(sessions.idle[0])
    await reads.dispose()
    assert driver.is_closed()
    assert not sessions.idle
    assert sessions.open == 0


async def test_a_transactional_engine_keeps_no_session(database_url: str) -> None:
    engine = create_engine(database_url, Settings(database_url=database_url, pool_size=8))
    try:
        assert generic_sessions(engine).capacity == 0
        async with engine.connect() as conn:
            own_pid = await conn.scalar(select(func.pg_backend_pid()))
            assert await _root_and_pid(conn, 4.0, Plan.GENERIC) == (2.0, own_pid)
            assert await _mode(conn) == "force_custom_plan"
    finally:
        await engine.dispose()


async def _every_pooled_connection_plans_custom(engine: AsyncEngine) -> None:
    conns = [await engine.connect().start() for _ in range(POOL_SIZE)]
    try:
        assert {await _mode(conn) for conn in conns} == {"force_custom_plan"}
    finally:
        for conn in conns:
            await conn.close()


async def test_no_session_is_opened_while_the_pool_has_none_to_spare(
    database_url: str, tmp_path: Path
) -> None:
    """The caller's connection reads (custom) rather than waiting for the pool."""
    settings = Settings(
        database_url=database_url,
        home=tmp_path,
        pool_size=4,
        pool_max_overflow=0,
        pool_timeout_seconds=30,
    )
    engine = autocommit(create_engine(database_url, settings))
    try:
        conns = [await engine.connect().start() for _ in range(4)]
        started = asyncio.get_running_loop().time()
        own_pid = (await conns[0].execute(select(func.pg_backend_pid()))).scalar_one()
        assert await _root_and_pid(conns[0], 4.0, Plan.GENERIC_IF_KEPT) == (2.0, own_pid)
        assert asyncio.get_running_loop().time() - started < 5
        assert generic_sessions(engine).open == 0
        for conn in conns:
            await conn.close()
    finally:
        await engine.dispose()


async def test_a_read_meeting_a_dead_session_runs_again(
    reads: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session that died unnoticed fails its statement as a dead connection: it and
    every idle session are dropped and the read runs again on a fresh one
    (db/reads.run_read)."""
    sessions = generic_sessions(reads)
    await run_read(reads, lambda conn: _root_and_pid(conn, 4.0, Plan.GENERIC))
    dead = driver_of(sessions.idle[0])
    real_fetch = type(dead).fetch
    failed = 0

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if self is dead:
            failed += 1
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
        return await real_fetch(self, *args, **kwargs)

    monkeypatch.setattr(type(dead), "fetch", fetch)
    root, _ = await run_read(reads, lambda conn: _root_and_pid(conn, 9.0, Plan.GENERIC))
    assert root == 3.0
    assert failed == 1
    assert dead.is_closed()
    assert sessions.open == 1
