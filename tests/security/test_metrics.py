"""Finding: `/metrics` was public and every distinct `operationName` added series (400
names grew it from 3.6 KB to 15 MB). Labels are bounded; `/metrics` needs a token."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient

TOKEN = "metrics-" + "m" * 32


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN, "metrics_operations": ["MyApp"]})


async def _scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.text


async def test_unknown_operation_names_add_no_series(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    await gql.post("query Warmup { viewer { id } }")
    before = await _scrape(client)
    for n in range(400):
        await gql.post(f"query Probe{n}x{'y' * 200} {{ viewer {{ id }} }}")
    after = await _scrape(client)
    assert "Probe" not in after
    assert 'operation="other"' in after
    assert len(after) < len(before) + 2_000, (len(before), len(after))


async def test_listed_and_bundled_names_keep_their_series(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    await gql.post("query MyApp { viewer { id } }")
    await gql.post("query GalleryPage { viewer { id } }")
    await gql.post("{ viewer { id } }")
    metrics = await _scrape(client)
    assert 'operation="MyApp"' in metrics
    assert 'operation="GalleryPage"' in metrics
    assert 'operation="anonymous"' in metrics


async def test_metrics_need_the_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/metrics/")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await client.get("/metrics/", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401
    assert "gallery_graphql" not in wrong.text


async def test_metrics_are_off_without_a_token(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": None}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(metrics_token="short")
