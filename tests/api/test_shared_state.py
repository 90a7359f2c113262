"""State shared by every host: the secret, rate limits and write positions in Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.app import create_app
from gallery_gql.auth import mint_token
from gallery_gql.db.tables import users
from gallery_gql.ops.bench.http import served as served_process
from gallery_gql.settings import Settings
from tests.factories import build_gallery
from tests.replication import ReplicatedDatabase, replicated_settings, served, wait_replayed

ITEM = "query($id: ID!) { contentItem(id: $id) { id } }"
CREATE = """mutation($input: CreateContentInput!) {
  createContent(input: $input) { item { id } errors { code message } }
}"""


def test_shared_state_without_an_explicit_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GALLERY_GQL_SECRET"):
        Settings(redis_url="redis://127.0.0.1:6379/0", home=tmp_path, secret=None)
    Settings(redis_url="redis://127.0.0.1:6379/0", home=tmp_path, secret="s" * 40)

    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "GALLERY_GQL_HOME": str(tmp_path)}
    env.pop("GALLERY_GQL_SECRET", None)
    result = subprocess.run(
        [sys.executable, "-m", "gallery_gql", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "GALLERY_GQL_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


async def test_two_gateway_processes_share_one_rate_limit(
    database_url: str, redis_url: str, redis_prefix: str
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "GALLERY_GQL_REDIS_PREFIX": redis_prefix,
        "GALLERY_GQL_RATE_LIMIT": "6/minute",
    }
    secret = "shared-secret-" + "x" * 32
    with (
        served_process(database_url, secret, workers=1, env=env) as first,
        served_process(database_url, secret, workers=1, env=env) as second,
    ):
        codes = []
        headers = []
        async with httpx.AsyncClient(timeout=10) as http:
            for base in [first] * 4 + [second] * 4:
                response = await http.post(f"{base}/graphql", json={"query": "{ __typename }"})
                codes.append(response.status_code)
                headers.append(response.headers.get("retry-after"))
    # Each process alone would have let all eight through (4 < 6).
    assert codes == [200] * 6 + [429] * 2
    assert all(value and int(value) >= 1 for value in headers[6:])


async def test_an_unreachable_redis_lets_requests_through(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "rate_limit": "1/minute"}
    )
    app = create_app(limited)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for _ in range(3):
                response = await http.post("/graphql", json={"query": "{ __typename }"})
                assert response.status_code == 200


async def test_a_viewers_write_is_seen_through_another_gateway_via_redis(
    replicated_database: ReplicatedDatabase, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two gateways (as two hosts) share write positions in Redis. Both replicas are
    frozen but within a generous lag bound, so anonymous reads stay on them and miss a
    fresh item, while the writer's reads through the other gateway see it."""
    db = replicated_database
    engine = create_async_engine(db.primary_url)
    await build_gallery(engine, regular=3, auto=3)
    viewer = uuid.uuid4()  # keys of this run alone
    async with engine.begin() as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": viewer,
                    "username": f"u{viewer.hex[:8]}",
                    "email": f"{viewer.hex}@example.test",
                }
            ],
        )
    await engine.dispose()
    await asyncio.to_thread(wait_replayed, db.cluster)
    settings = replicated_settings(
        db, tmp_path, redis_url=redis_url, redis_prefix=redis_prefix, replica_max_lag_ms=30_000
    )
    token = mint_token(viewer, settings)
    async with served(settings) as (_, first), served(settings) as (_, second):
        # Paused once both gateways have seen them current: a monitor that starts while
        # a replica is already behind cannot date it, and keeps reads off it.
        for replica in db.cluster.replicas:
            await asyncio.to_thread(replica.psql, "SELECT pg_wal_replay_pause()")
        body = await first.post(
            CREATE,
            {"input": {"title": "t", "contentType": "image", "contentData": "/d", "prompt": "p"}},
            token=token,
        )
        item_id = body["data"]["createContent"]["item"]["id"]
        anonymous = await second.post(ITEM, {"id": item_id})
        assert anonymous["data"]["contentItem"] is None  # the replicas have not replayed it
        mine = await second.post(ITEM, {"id": item_id}, token=token)
        assert mine["data"]["contentItem"]["id"] == item_id


def test_a_lag_bound_within_two_polls_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="REPLICA_MAX_LAG_MS"):
        Settings(home=tmp_path, replica_max_lag_ms=150, replica_poll_interval_ms=100)
    Settings(home=tmp_path, replica_max_lag_ms=250, replica_poll_interval_ms=100)
