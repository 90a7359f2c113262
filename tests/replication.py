"""A primary with two real streaming replicas, for the tests that ask for one.

Session-scoped and started only when a test requests `replicated_database`, so the rest
of the suite pays nothing for it. Each test gets its own database on the primary (copied
from a migrated template) once both replicas have replayed its creation; at teardown
every replica is running and replaying again, whatever the test did to it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from gallery_gql.app import create_app
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.embedded_replicas import EmbeddedReplica, embedded_replicas, start_replicas
from gallery_gql.db.lsn import parse_lsn
from gallery_gql.db.migrate import upgrade
from gallery_gql.settings import Settings

TEMPLATE = "replicated_template"
REPLICAS = 2
COMMITS_FLUSHED = {"synchronous_commit": "on"}
_counter = itertools.count()


@dataclass(frozen=True)
class ReplicatedCluster:
    primary: EmbeddedCluster
    replicas: list[EmbeddedReplica]

    def url(self, server: EmbeddedCluster, database: str) -> str:
        return make_url(server.url()).set(database=database).render_as_string(False)


@dataclass(frozen=True)
class ReplicatedDatabase:
    cluster: ReplicatedCluster
    name: str

    @property
    def primary_url(self) -> str:
        return self.cluster.url(self.cluster.primary, self.name)

    @property
    def replica_urls(self) -> list[str]:
        return [self.cluster.url(replica, self.name) for replica in self.cluster.replicas]

    def replica(self, index: int) -> EmbeddedReplica:
        return self.cluster.replicas[index]


def wait_replayed(cluster: ReplicatedCluster, timeout: float = 30.0) -> None:
    """Until every running, unpaused replica has replayed the primary's WAL so far."""
    target = parse_lsn(cluster.primary.psql("SELECT pg_current_wal_insert_lsn()"))
    deadline = time.monotonic() + timeout
    for replica in cluster.replicas:
        while parse_lsn(replica.psql("SELECT pg_last_wal_replay_lsn()")) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{replica.name} did not catch up")
            time.sleep(0.02)


@pytest.fixture(scope="session")
def replicated_cluster() -> Iterator[ReplicatedCluster]:
    home = Path(tempfile.mkdtemp(prefix="gallery-gql-replicated-"))
    home.chmod(0o755)
    primary = EmbeddedCluster(home)
    # Commits wait for their (fsync-less) flush, as in production: an idle primary then
    # keeps unflushed bytes past its last commit, which the router must not take for lag.
    primary.start(durable=False, settings=COMMITS_FLUSHED)
    try:
        start_replicas(primary, REPLICAS, durable=False)
        primary.psql(f"CREATE DATABASE {TEMPLATE}", database="postgres")
        cluster = ReplicatedCluster(primary, embedded_replicas(primary))
        upgrade(cluster.url(primary, TEMPLATE))
        yield cluster
    finally:
        primary.destroy()


@pytest.fixture
async def replicated_database(
    replicated_cluster: ReplicatedCluster,
) -> AsyncIterator[ReplicatedDatabase]:
    """A fresh migrated database on the primary, already on both replicas."""
    cluster = replicated_cluster
    name = f"replicated_{os.getpid()}_{next(_counter)}"
    cluster.primary.psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}", database="postgres")
    await asyncio.to_thread(wait_replayed, cluster)
    try:
        yield ReplicatedDatabase(cluster, name)
    finally:
        cluster.primary.start(durable=False, settings=COMMITS_FLUSHED)
        for replica in cluster.replicas:
            replica.start(durable=False)
            replica.psql("SELECT pg_wal_replay_resume()")
        cluster.primary.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")


def replicated_settings(db: ReplicatedDatabase, home: Path, **overrides: object) -> Settings:
    """Settings for an app reading from both replicas (fast polls, a short lag bound)."""
    values: dict[str, Any] = {
        "database_url": db.primary_url,
        "database_replica_urls": ",".join(db.replica_urls),
        "secret": "test-secret-" + "x" * 32,
        "home": home,
        "rate_limit": "",
        "replica_poll_interval_ms": 50,
        "replica_max_lag_ms": 400,
    }
    return Settings(**(values | overrides))


class Client:
    """GraphQL over the app: whole responses, with a token and a consistency token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        consistency: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if consistency:
            headers["X-Consistency-Token"] = consistency
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[FastAPI, Client]]:
    """The app in process, once its replica monitor has polled every replica up."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        router = app.state.router
        if router.monitor is not None:
            deadline = time.monotonic() + 10
            while not all(state.up for state in router.monitor.states.values()):
                assert time.monotonic() < deadline, "replicas never came up"
                await asyncio.sleep(0.02)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield app, Client(http)


def app_connections(server: EmbeddedCluster, database: str) -> int:
    """The gateway's pooled connections open on `server` (not the monitor's)."""
    return int(
        server.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gallery-gql' "
            f"AND datname = '{database}'",
            database="postgres",
        )
    )
