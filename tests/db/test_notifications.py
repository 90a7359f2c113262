"""LISTEN/NOTIFY: committed notifications reach every listener, a lost connection comes
back (and says so), and tag writes reach every worker's tag directory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.auth import mint_token
from gallery_gql.db.notifications import NotificationListener, notify
from gallery_gql.settings import Settings
from tests.factories import build_gallery


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _terminate(engine: AsyncEngine, application: str) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": application},
        )
        return int(result.scalar_one())


async def test_only_committed_notifications_arrive_and_a_lost_connection_returns(
    database_url: str, engine: AsyncEngine
) -> None:
    received: list[str] = []
    states: list[bool] = []
    listener = NotificationListener(database_url, keepalive_seconds=0.2)
    listener.subscribe("probe", received.append)
    listener.watch(states.append)
    await listener.start(wait_seconds=10)
    try:
        assert listener.connected
        async with engine.connect() as conn:
            async with conn.begin() as tx:
                await notify(conn, "probe", "rolled back")
                await tx.rollback()
            async with conn.begin():
                await notify(conn, "probe", "committed")
        await _until(lambda: received == ["committed"])

        assert await _terminate(engine, "gallery-gql-listener") == 1
        await _until(lambda: listener.connections == 2 and listener.connected)
        assert states == [True, False, True]
        async with engine.begin() as conn:
            await notify(conn, "probe", "after the reconnect")
        await _until(lambda: received == ["committed", "after the reconnect"])
    finally:
        await listener.stop()


async def test_a_tag_write_reaches_every_workers_tag_directory(
    settings: Settings, engine: AsyncEngine
) -> None:
    dataset = await build_gallery(engine, regular=5, auto=5)
    long_lived = settings.model_copy(update={"tag_stats_ttl_seconds": 3600})
    child, parent = dataset.tags[1], dataset.tags[2]
    page = "query($t: [ID!]) { contentItems(tags: $t, first: 1) { edges { cursor } } }"
    edit = """mutation($input: TagParentInput!) {
      addTagParent(input: $input) { errors { code } } }"""
    admin = mint_token(dataset.users[0], settings)  # user 0 is the admin
    worker_a, worker_b = create_app(long_lived), create_app(long_lived)
    async with LifespanManager(worker_a) as a, LifespanManager(worker_b) as b:
        directory = worker_b.state.tag_directory
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t")
            for m in (a, b)
        ]
        async with clients[0] as http_a, clients[1] as http_b:
            variables = {"t": [str(child), str(parent)]}
            assert (
                await http_b.post("/graphql", json={"query": page, "variables": variables})
            ).status_code == 200
            assert child in directory._tags
            assert parent in directory._tags

            body = {
                "query": edit,
                "variables": {"input": {"tag": str(child), "parent": str(parent)}},
            }
            response = await http_a.post(
                "/graphql", json=body, headers={"Authorization": f"Bearer {admin}"}
            )
            assert response.json()["data"]["addTagParent"]["errors"] == []
            await _until(lambda: child not in directory._tags and parent not in directory._tags)

            # A worker that lost its listener keeps nothing from before once it is back.
            await http_b.post("/graphql", json={"query": page, "variables": variables})
            assert child in directory._tags
            listener = worker_b.state.listener
            assert await _terminate(engine, "gallery-gql-listener") == 2  # one per worker
            await _until(lambda: listener.connections == 2 and listener.connected)
            assert child not in directory._tags
