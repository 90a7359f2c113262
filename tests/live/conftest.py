"""Live subscription tests: a small gallery, and the app served on loopback twice (two
workers: each its own listener and hub, as gunicorn's workers are)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.auth import mint_token
from gallery_gql.gallery.live.hub import LiveHub
from gallery_gql.settings import Settings
from tests.factories import Dataset, build_gallery
from tests.security.served import served


@dataclass(frozen=True)
class Gallery:
    dataset: Dataset
    tokens: list[str]
    """One per user of the dataset (user 0 is the admin)."""


@dataclass(frozen=True)
class Workers:
    urls: list[str]
    apps: list[FastAPI]
    settings: Settings

    def hub(self, worker: int) -> LiveHub:
        hub: LiveHub = self.apps[worker].state.live
        return hub


@pytest.fixture
async def gallery(engine: AsyncEngine, settings: Settings) -> Gallery:
    dataset = await build_gallery(engine, regular=20, auto=20)
    return Gallery(dataset, [mint_token(user, settings) for user in dataset.users])


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
async def workers(live_settings: Settings, gallery: Gallery) -> AsyncIterator[Workers]:
    async with AsyncExitStack() as stack:
        urls, apps = [], []
        for _ in range(2):
            app = create_app(live_settings)
            host, port = await stack.enter_async_context(served(live_settings, app))
            urls.append(f"http://{host}:{port}")
            apps.append(app)
        yield Workers(urls, apps, live_settings)


async def until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait (bounded) until `condition()` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)
