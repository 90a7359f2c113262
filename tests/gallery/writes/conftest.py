"""The gallery the write tests run on: 20 regular and 30 auto items."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Dataset, build_gallery


@pytest.fixture
async def dataset(engine: AsyncEngine) -> Dataset:
    return await build_gallery(engine, regular=20, auto=30)
