"""Fixtures shared by the API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery


@dataclass
class CountingApp:
    gql: GraphQLClient
    statements: list[str]


@asynccontextmanager
async def serve_counting(settings: Settings) -> AsyncIterator[CountingApp]:
    """The app under its lifespan, with every SQL statement on its engine recorded."""
    app = create_app(settings)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    async with LifespanManager(app) as manager:
        sync_engine = app.state.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield CountingApp(GraphQLClient(http), statements)
        event.remove(sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def counting_app(settings: Settings) -> AsyncIterator[CountingApp]:
    async with serve_counting(settings) as app:
        yield app


@pytest.fixture(scope="module")
async def module_gallery(module_database_url: str) -> AsyncIterator[Dataset]:
    """A gallery in the module's shared database, for modules whose tests only read (they
    point `database_url` at `module_database_url`)."""
    engine = create_async_engine(module_database_url)
    yield await build_gallery(engine, regular=30, auto=60)
    await engine.dispose()


async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app of its own built from `settings`, under its lifespan."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def both(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps on the same database: one answering by the compiled path, one without."""
    compiled = settings.model_copy(update={"compiled_documents": True})
    general = settings.model_copy(update={"compiled_documents": False})
    async for fast in app_client(compiled):
        async for slow in app_client(general):
            yield fast, slow
