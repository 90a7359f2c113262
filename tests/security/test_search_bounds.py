"""Finding: an unbounded `search` (240 KB) kept a PostgreSQL backend on the CPU for ~12 s
past the statement timeout (text-search parsing does not check for cancellation), and
50k words overflowed the server's stack (→ INTERNAL). Search text is bounded before SQL,
and no request keeps a backend working past its deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.gallery.query.filters import MAX_SEARCH_CHARACTERS, MAX_SEARCH_WORDS
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient

SEARCH = "query Search($q: String) { contentItems(search: $q) { edges { cursor } } }"


async def _search(gql: GraphQLClient, value: str) -> dict[str, object]:
    return await gql.post(SEARCH, {"q": value})


async def test_a_long_search_is_refused_before_sql(gql: GraphQLClient) -> None:
    body = await _search(gql, "cat " * 60_000)  # 240 KB
    error = body["errors"][0]  # type: ignore[index]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"at most {MAX_SEARCH_CHARACTERS} characters" in error["message"]


async def test_many_words_are_refused_not_internal(gql: GraphQLClient) -> None:
    body = await _search(gql, "a " * (MAX_SEARCH_WORDS + 1))
    error = body["errors"][0]  # type: ignore[index]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"at most {MAX_SEARCH_WORDS} words" in error["message"]
    body = await _search(gql, "ab" * (MAX_SEARCH_CHARACTERS // 2))  # one long word
    assert "errors" not in body


async def test_a_search_at_the_bounds_is_answered(gql: GraphQLClient) -> None:
    words = " ".join(["dog"] * MAX_SEARCH_WORDS)
    assert "errors" not in await _search(gql, words)
    longest = " ".join(["x" * 12] * MAX_SEARCH_WORDS)[:MAX_SEARCH_CHARACTERS]
    assert len(longest) == MAX_SEARCH_CHARACTERS
    assert "errors" not in await _search(gql, longest)


@pytest.fixture
async def slow_db_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a short request deadline and a statement timeout far beyond it."""
    settings = Settings(
        database_url=database_url,
        secret="s" * 40,
        home=tmp_path,
        rate_limit="",
        request_deadline_seconds=0.5,
        statement_timeout_ms=30_000,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _active_gateway_backends(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gallery-gql' "
                "AND state = 'active' AND datname = current_database()"
            )
        )
    return int(count or 0)


async def test_the_backend_stops_when_the_request_deadline_passes(
    engine: AsyncEngine, slow_db_client: httpx.AsyncClient
) -> None:
    """A page blocked in PostgreSQL (here behind a table lock) past the request deadline:
    the client gets 504 and the backend stops working on it within a second."""
    async with engine.connect() as locker:
        await locker.execute(text("BEGIN"))
        await locker.execute(text("LOCK TABLE content_items IN ACCESS EXCLUSIVE MODE"))
        response = await slow_db_client.post(
            "/graphql", json={"query": "{ contentItems { edges { cursor } } }"}
        )
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        active = await _active_gateway_backends(engine)
        for _ in range(20):  # up to 1 s
            if not active:
                break
            await asyncio.sleep(0.05)
            active = await _active_gateway_backends(engine)
        assert active == 0, "a backend kept working after the request's deadline"
        await locker.execute(text("ROLLBACK"))
    # The pool is usable afterwards.
    ok = await slow_db_client.post(
        "/graphql", json={"query": "{ contentItems { edges { cursor } } }"}
    )
    assert ok.status_code == 200, ok.text
