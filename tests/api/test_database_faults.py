"""Database faults become typed, retryable errors, and service resumes after them."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.app import create_app
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.failures import DatabaseFailure, classify
from gallery_gql.db.migrate import upgrade
from gallery_gql.settings import Settings

PAGE = "{ contentItems(first: 1) { edges { cursor } } }"


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    """A cluster of its own: these tests stop and start it."""
    home = Path(tempfile.mkdtemp(prefix="gallery-gql-faults-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home)
    upgrade(cluster.start(durable=False))
    yield cluster
    cluster.destroy()


async def test_statement_timeout_is_a_timeout(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET statement_timeout = '20ms'"))
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        await engine.dispose()
    assert classify(caught.value) is DatabaseFailure.TIMEOUT


@pytest.fixture
async def http(cluster: EmbeddedCluster, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=cluster.url(),
        secret="s" * 40,
        home=tmp_path,
        rate_limit="",
        pool_timeout_seconds=0.5,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_database_down_is_503_then_service_resumes(
    cluster: EmbeddedCluster, http: httpx.AsyncClient
) -> None:
    assert (await http.post("/graphql", json={"query": PAGE})).status_code == 200
    cluster.stop()
    try:
        down = await http.post("/graphql", json={"query": PAGE})
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "1"
        error = down.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "refused" not in error["message"].lower()
    finally:
        cluster.start(durable=False)
    for _ in range(3):
        back = await http.post("/graphql", json={"query": PAGE})
        assert back.status_code == 200
        assert "errors" not in back.json()


async def test_killed_backends_are_replaced(
    cluster: EmbeddedCluster, http: httpx.AsyncClient
) -> None:
    assert (await http.post("/graphql", json={"query": PAGE})).status_code == 200
    admin = create_async_engine(cluster.url())
    async with admin.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'gallery-gql' AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    assert killed >= 1
    for _ in range(3):
        response = await http.post("/graphql", json={"query": PAGE})
        assert response.status_code == 200
        assert "errors" not in response.json()
