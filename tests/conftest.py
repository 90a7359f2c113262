"""Shared fixtures: a private PostgreSQL for the whole run, a fresh database per test.

The cluster is the project's own embedded one (a throwaway home under /tmp), unless
TEST_DATABASE_URL names an existing server to create test databases on.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.app import create_app
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.migrate import upgrade
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.settings import Settings

TEMPLATE = f"gallery_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
"""One template per test process: `make test` runs two (pytest-xdist), which may share a
server named by TEST_DATABASE_URL."""
_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_plans() -> Iterator[None]:
    """No plan kept across tests: tests that force a shape replace the planner's rules,
    which its memo does not key on (`plan_memo`)."""
    plan_walk.clear()
    yield
    plan_walk.clear()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of the maintenance database on the test server (asyncpg driver)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield make_url(external).set(drivername="postgresql+asyncpg").render_as_string(False)
        return
    home = Path(tempfile.mkdtemp(prefix="gallery-gql-test-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home)
    url = cluster.start(durable=False)
    try:
        yield make_url(url).set(database="postgres").render_as_string(False)
    finally:
        cluster.destroy()


async def admin(server_url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE)."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)
    await engine.dispose()


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """A database migrated to head, copied for every test."""
    asyncio.run(
        admin(server_url, f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
    )
    url = make_url(server_url).set(database=TEMPLATE).render_as_string(False)
    upgrade(url)
    return url


@asynccontextmanager
async def template_copy(server_url: str) -> AsyncIterator[str]:
    """A new database copied from the migrated template, dropped on exit."""
    name = f"gallery_test_{os.getpid()}_{next(_counter)}"
    await admin(server_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        await admin(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, empty, migrated database for one test."""
    async with template_copy(server_url) as url:
        yield url


@pytest.fixture(scope="module")
async def module_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """One database for a whole module, for modules whose tests only read: such a module
    overrides `database_url` with this one."""
    async with template_copy(server_url) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No rate limit: tests send thousands of requests from one client address.
    return Settings(
        database_url=database_url, secret="test-secret-" + "x" * 32, home=tmp_path, rate_limit=""
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The whole response body, plus its HTTP status under `_status`."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        body["_status"] = response.status_code
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The response's data; fails the test on any error."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


from tests.redis_server import redis_prefix, redis_url  # noqa: E402, F401
from tests.replication import replicated_cluster, replicated_database  # noqa: E402, F401
