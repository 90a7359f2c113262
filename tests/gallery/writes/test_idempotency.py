"""Idempotency keys: claimed in the write's transaction, replayed for the same request,
refused for another, forgotten after 24 hours, and serialized between concurrent twins."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.tables import users
from gallery_gql.gallery.writes.errors import IdempotencyKeyReusedError, InvalidIdempotencyKeyError
from gallery_gql.gallery.writes.idempotency import (
    IdempotentRequest,
    claim,
    purge_expired,
    request_hash,
    store,
)

USER = UUID(int=1)
OTHER = UUID(int=2)


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.execute(
            insert(users),
            [
                {"id": USER, "username": "one", "email": "one@example.test"},
                {"id": OTHER, "username": "two", "email": "two@example.test"},
            ],
        )
    return engine


def _request(key: str = "k", **request: Any) -> IdempotentRequest:
    return IdempotentRequest(key, "createContent", request or {"title": "a"})


async def _once(engine: AsyncEngine, request: IdempotentRequest, response: Any) -> Any:
    """claim → (write) → store, as a mutation does; the replayed response or None."""
    async with engine.begin() as conn:
        replays = await claim(conn, USER, [request])
        if request.key in replays:
            return replays[request.key]
        await store(conn, USER, {request.key: response})
        return None


async def _rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar_one())


def test_hash_is_of_canonical_json() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})
    assert len(request_hash({})) == 64


async def test_same_request_replays_the_stored_response(db: AsyncEngine) -> None:
    assert await _once(db, _request(), {"id": 1}) is None
    assert await _once(db, _request(), {"id": 2}) == {"id": 1}
    assert await _rows(db) == 1


async def test_keys_belong_to_one_user(db: AsyncEngine) -> None:
    await _once(db, _request(), {"id": 1})
    async with db.begin() as conn:
        assert await claim(conn, OTHER, [_request()]) == {}


async def test_another_request_or_operation_is_refused(db: AsyncEngine) -> None:
    await _once(db, _request(title="a"), {"id": 1})
    with pytest.raises(IdempotencyKeyReusedError) as caught:
        await _once(db, _request(title="b"), {"id": 2})
    assert caught.value.keys == ["k"]
    with pytest.raises(IdempotencyKeyReusedError):
        await _once(db, IdempotentRequest("k", "retagContent", {"title": "a"}), {"id": 2})


async def _claim_and_fail(engine: AsyncEngine, before_failing: Any = None) -> None:
    async with engine.begin() as conn:
        await claim(conn, USER, [_request()])
        if before_failing is not None:
            await before_failing()
        raise RuntimeError("the write failed")


async def test_a_failed_write_leaves_no_key(db: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        await _claim_and_fail(db)
    assert await _rows(db) == 0
    assert await _once(db, _request(), {"id": 1}) is None


async def test_expired_keys_are_ignored_and_purged(db: AsyncEngine) -> None:
    await _once(db, _request("old"), {"id": 1})
    await _once(db, _request("new"), {"id": 2})
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
                "WHERE key = 'old'"
            )
        )
    # an expired key is taken over, even by another request
    assert await _once(db, _request("old", title="other"), {"id": 3}) is None
    assert await _once(db, _request("old", title="other"), {"id": 4}) == {"id": 3}
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        )
        await conn.execute(text("UPDATE idempotency_keys SET created_at = now() WHERE key = 'new'"))
        assert await purge_expired(conn) == 1
    assert await _rows(db) == 1


async def test_invalid_and_repeated_keys_are_refused(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        for key in ("", "x" * 201, "tab\there"):
            with pytest.raises(InvalidIdempotencyKeyError):
                await claim(conn, USER, [_request(key)])
        with pytest.raises(ValueError, match="more than once"):
            await claim(conn, USER, [_request("a"), _request("a")])


async def test_concurrent_twin_waits_and_replays(db: AsyncEngine) -> None:
    """The second claim blocks on the first's uncommitted key, then replays its result."""
    first_claimed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> Any:
        async with db.begin() as conn:
            await claim(conn, USER, [_request()])
            first_claimed.set()
            await release.wait()
            await store(conn, USER, {"k": {"id": 1}})
        return None

    async def twin(conn: AsyncConnection) -> Any:
        await first_claimed.wait()
        return await claim(conn, USER, [_request()])

    async def second() -> Any:
        async with db.begin() as conn:
            return await twin(conn)

    task = asyncio.create_task(second())
    runner = asyncio.create_task(first())
    await first_claimed.wait()
    await asyncio.sleep(0.2)
    assert not task.done()  # waiting on the primary key
    release.set()
    await runner
    assert await task == {"k": {"id": 1}}


async def test_twin_of_a_rolled_back_write_claims_the_key(db: AsyncEngine) -> None:
    first_claimed = asyncio.Event()
    release = asyncio.Event()

    async def claimed() -> None:
        first_claimed.set()
        await release.wait()

    async def first() -> None:
        with pytest.raises(RuntimeError):
            await _claim_and_fail(db, claimed)

    async def second() -> Any:
        await first_claimed.wait()
        async with db.begin() as conn:
            replays = await claim(conn, USER, [_request()])
            await store(conn, USER, {"k": {"id": 2}})
            return replays

    runner = asyncio.create_task(first())
    task = asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.2)
    release.set()
    await runner
    assert await task == {}
    assert await _once(db, _request(), {"id": 3}) == {"id": 2}
