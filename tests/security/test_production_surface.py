"""Finding: `/static/graphiql.html` was served in production, and the pages carried no
Content-Security-Policy, frame-ancestors / X-Frame-Options, nosniff or Referrer-Policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gallery_gql.app import create_app
from gallery_gql.settings import Settings

GRAPHIQL_ONLY = ["/static/graphiql.html", "/static/vendor/graphiql.min.js"]


async def _client(
    settings: Settings, environment: Literal["development", "production"]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"environment": environment}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(settings, "production"):
        yield http


@pytest.fixture
async def development(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(settings, "development"):
        yield http


def _hardened(response: httpx.Response) -> str:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    return policy


@pytest.mark.parametrize("path", GRAPHIQL_ONLY)
async def test_graphiql_is_not_served_in_production(
    production: httpx.AsyncClient, path: str
) -> None:
    assert (await production.get(path)).status_code == 404
    page = await production.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()


async def test_the_gallery_page_is_hardened(production: httpx.AsyncClient) -> None:
    page = await production.get("/")
    assert page.status_code == 200
    policy = _hardened(page)
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert (await production.get("/static/gallery/gallery.js")).status_code == 200


async def test_api_answers_are_hardened(production: httpx.AsyncClient) -> None:
    answer = await production.post("/graphql", json={"query": "{ __typename }"})
    assert answer.status_code == 200
    assert _hardened(answer).startswith("default-src 'none'")
    refused = await production.post(
        "/graphql", content=b"\xff", headers={"Content-Type": "application/json"}
    )
    _hardened(refused)


async def test_graphiql_in_development_runs_only_its_own_scripts(
    development: httpx.AsyncClient,
) -> None:
    for path in GRAPHIQL_ONLY:
        assert (await development.get(path)).status_code == 200
    page = await development.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" in page.text.lower()
    policy = _hardened(page)
    assert "'sha256-" in policy
    script_src = policy.split("script-src ", 1)[1].split(";", 1)[0]
    assert "unsafe-inline" not in script_src
