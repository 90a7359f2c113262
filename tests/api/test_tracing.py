"""With tracing on, each GraphQL operation becomes OpenTelemetry spans."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gallery_gql.app import create_app
from gallery_gql.settings import Settings

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _provider() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"tracing": True}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_operation_spans(traced: httpx.AsyncClient) -> None:
    EXPORTER.clear()
    query = "query Page { contentItems(first: 1) { edges { cursor } } }"
    response = await traced.post("/graphql", json={"query": query})
    assert response.status_code == 200
    names = {span.name for span in EXPORTER.get_finished_spans()}
    assert "GraphQL Query: Page" in names
    assert {"GraphQL Parsing", "GraphQL Validation"} <= names
