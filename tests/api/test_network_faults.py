"""Faults between the gateway and PostgreSQL: typed errors during, full service after."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.faultproxy import FaultProxy

PAGE = {"query": "{ contentItems(first: 3) { edges { cursor } } }"}
TRANSIENT = {"SERVICE_UNAVAILABLE", "TIMEOUT"}


class Harness:
    def __init__(self, http: httpx.AsyncClient, proxy: FaultProxy, app: Any) -> None:
        self.http = http
        self.proxy = proxy
        self.app = app

    async def page(self) -> httpx.Response:
        return await self.http.post("/graphql", json=PAGE)

    async def healthy(self, times: int = 3) -> None:
        for _ in range(times):
            response = await self.page()
            assert response.status_code == 200, response.text
            assert "errors" not in response.json()


def _transient(response: httpx.Response) -> bool:
    codes = {e["extensions"]["code"] for e in response.json().get("errors") or []}
    return response.status_code in (200, 503, 504) and codes <= TRANSIENT


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    url = make_url(database_url)
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    settings = Settings(
        database_url=url.set(port=port).render_as_string(False),
        secret="s" * 40,
        home=tmp_path,
        rate_limit="",
        pool_size=2,
        pool_max_overflow=0,
        pool_timeout_seconds=0.3,
        statement_timeout_ms=500,
        connect_timeout_seconds=1,
        request_deadline_seconds=2,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Harness(http, proxy, app)
    await proxy.stop()


async def test_slow_network_is_slow_but_correct(harness: Harness) -> None:
    await harness.healthy(1)
    harness.proxy.delay = 0.05
    await harness.healthy(2)


async def test_reset_connections_recover(harness: Harness) -> None:
    await harness.healthy()
    for _ in range(3):
        harness.proxy.reset()
        response = await harness.page()
        assert response.status_code == 200 or _transient(response), response.text
    await harness.healthy()


async def test_blackhole_hits_the_deadline_then_recovers(harness: Harness) -> None:
    await harness.healthy(1)
    harness.proxy.blackhole = True
    harness.proxy.reset()
    started = time.monotonic()
    response = await harness.page()
    assert time.monotonic() - started < 3
    assert response.status_code in (503, 504)
    assert _transient(response)
    harness.proxy.blackhole = False
    await harness.healthy()


async def test_exhausted_pool_is_503_with_retry_after(harness: Harness) -> None:
    engine = harness.app.state.engine
    async with engine.connect() as first, engine.connect() as second:
        assert first is not second
        response = await harness.page()
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    await harness.healthy()
