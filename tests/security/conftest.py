"""A small gallery with an owner's private item, the users who attack it, and their tokens."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import item_global_id
from gallery_gql.auth import mint_token
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.settings import Settings
from tests.factories import BASE_TIME, add_items, build_gallery, item_row, sync_derived


@dataclass(frozen=True)
class World:
    admin: UUID
    owner: UUID
    other: UUID
    marked_tag: UUID
    """On exactly the owner's two items below."""
    private_item: ItemKey
    """The owner's private item, the newest item of all."""
    public_item: ItemKey
    tokens: dict[str, str]
    """`admin`, `owner` and `other` → bearer token."""

    @property
    def private_id(self) -> str:
        return item_global_id(self.private_item)

    @property
    def public_id(self) -> str:
        return item_global_id(self.public_item)


async def _newest_id(engine: AsyncEngine, source: Source) -> int:
    table = CONTENT_TABLES[source]
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.max(table.c.id)))).scalar_one())


@pytest.fixture
async def world(engine: AsyncEngine, settings: Settings) -> World:
    dataset = await build_gallery(engine, regular=12, auto=12)
    admin, owner, other = dataset.users[0], dataset.users[1], dataset.users[2]
    marked = dataset.tags[-1]  # weight 0: on no item yet
    rng = random.Random(5)
    keys = []
    for minutes, (source, private) in enumerate(((Source.AUTO, False), (Source.REGULAR, True))):
        row = item_row(rng, dataset, [0.0] * len(dataset.tags))
        row.update(
            creator_id=owner,
            is_private=private,
            tags=[marked],
            title="owner's secret plan" if private else "owner's public piece",
            prompt="a private prompt" if private else "a public prompt",
            created_at=BASE_TIME + timedelta(days=30, minutes=minutes),
        )
        await add_items(engine, source, [row])
        keys.append(ItemKey(source, await _newest_id(engine, source)))
    await sync_derived(engine)
    tokens = {
        name: mint_token(user, settings)
        for name, user in (("admin", admin), ("owner", owner), ("other", other))
    }
    return World(admin, owner, other, marked, keys[1], keys[0], tokens)
