"""Probes, metrics and request ids."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient

METRICS_TOKEN = "metrics-token-" + "t" * 32


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": METRICS_TOKEN})


async def test_liveness_and_readiness(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    behind = await client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["migrations"] == "0001"


async def test_metrics_count_operations_errors_and_strategies(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    await gql.post("query GalleryPage { contentItems(first: 2) { edges { cursor } } }")
    await gql.post("query BadPage { contentItems(first: 0) { edges { cursor } } }")
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = (await client.get("/metrics/", headers=auth)).text
    assert 'gallery_graphql_operations_total{operation="GalleryPage",type="query"}' in metrics
    assert 'gallery_graphql_operation_seconds_bucket{le="0.005",operation="GalleryPage"}' in metrics
    assert 'gallery_graphql_errors_total{code="BAD_USER_INPUT"}' in metrics
    assert 'gallery_query_strategy_total{strategy="sort-index-walk"}' in metrics
    assert 'gallery_db_pool_connections{state="checked_out",target="primary"}' in metrics


async def test_pool_metrics_count_kept_connections_apart(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    """A compiled page's connection stays out of the pool for the next read: idle there,
    it is `kept`, not `checked_out`."""
    await gql.post("query GalleryPage { contentItems(first: 2) { edges { node { id } } } }")
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = (await client.get("/metrics/", headers=auth)).text
    series = r'^gallery_db_pool_connections\{state="(\w+)",target="primary"\} (\S+)$'
    pool = dict(re.findall(series, metrics, re.M))
    assert float(pool["kept"]) >= 1, pool
    assert float(pool["checked_out"]) == 0, pool


async def test_request_id_round_trips_into_errors(client: httpx.AsyncClient) -> None:
    request_id = "0123456789abcdef0123456789abcdef"
    response = await client.post(
        "/graphql",
        json={"query": "{ contentItems(first: 1) { edges { cursor } } }"},
        headers={"X-Request-ID": request_id},
    )
    assert response.headers["X-Request-ID"] == request_id
    generated = await client.post("/graphql", json={"query": "{ viewer { username } }"})
    assert len(generated.headers["X-Request-ID"]) == 32
