"""The mutation tests' gallery: 20 items, and tokens for an admin, an owner and another user."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.api.mutations.calls import Env
from tests.factories import build_gallery


@pytest.fixture
async def env(engine: AsyncEngine, settings: Settings) -> Env:
    dataset = await build_gallery(engine, regular=10, auto=10)
    admin, owner, other = dataset.users[:3]
    return Env(
        dataset,
        mint_token(admin, settings),
        mint_token(owner, settings),
        mint_token(other, settings),
        owner,
    )
