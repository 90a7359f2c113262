"""Small datasets written straight to the tables, for tests.

Items get their tag arrays here; `sync_derived` then derives the junction and the
per-tag counts from the arrays in SQL, so tests start from a consistent database.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.tables import CONTENT_TABLES, tags, users
from gallery_gql.db.transactions import run_in_transaction
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.access import lock_items
from gallery_gql.gallery.writes.tagging import Retag, Tagged, retag
from gallery_gql.settings import Settings

WORDS = (
    "cat",
    "dog",
    "forest",
    "neon",
    "castle",
    "river",
    "robot",
    "sunset",
    "ocean",
    "portrait",
    "dragon",
    "city",
)
BASE_TIME = datetime(2025, 5, 1, tzinfo=UTC)

SYNC_SQL = [
    "DELETE FROM content_tags",
    *(
        f"""INSERT INTO content_tags (created_at, tag_key, item_id, source)
        SELECT i.created_at, t.tag_key, i.id, {int(source)}
        FROM {table.name} i CROSS JOIN LATERAL unnest(i.tags) AS u(tag_id)
        JOIN tags t ON t.id = u.tag_id"""
        for source, table in CONTENT_TABLES.items()
    ),
    "DELETE FROM tag_counts",
    *(
        f"""INSERT INTO tag_counts (tag_key, source, items, private_items)
        SELECT t.tag_key, {int(source)}, count(*), count(*) FILTER (WHERE i.is_private)
        FROM {table.name} i CROSS JOIN LATERAL unnest(i.tags) AS u(tag_id)
        JOIN tags t ON t.id = u.tag_id GROUP BY t.tag_key"""
        for source, table in CONTENT_TABLES.items()
    ),
]


async def sync_derived(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for statement in SYNC_SQL:
            await conn.execute(text(statement))


@dataclass
class Dataset:
    users: list[UUID] = field(default_factory=list)
    tags: list[UUID] = field(default_factory=list)
    tag_names: dict[UUID, str] = field(default_factory=dict)


async def add_users(engine: AsyncEngine, count: int, dataset: Dataset) -> None:
    rows = []
    for n in range(len(dataset.users), len(dataset.users) + count):
        user_id = uuid.UUID(int=n + 1)
        dataset.users.append(user_id)
        rows.append(
            {
                "id": user_id,
                "username": f"user{n}",
                "email": f"user{n}@example.test",
                "is_admin": n == 0,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(users), rows)


async def add_tags(engine: AsyncEngine, names: list[str], dataset: Dataset) -> None:
    rows = []
    for name in names:
        tag_id = uuid.uuid5(uuid.NAMESPACE_URL, f"tag:{name}")
        dataset.tags.append(tag_id)
        dataset.tag_names[tag_id] = name
        rows.append({"id": tag_id, "name": name})
    async with engine.begin() as conn:
        await conn.execute(insert(tags), rows)


def item_row(
    rng: random.Random, dataset: Dataset, tag_weights: list[float], created_slots: int = 60
) -> dict[str, object]:
    """A random item whose created_at and quality_score collide often (to test ties)."""
    chosen = [t for t, w in zip(dataset.tags, tag_weights, strict=True) if rng.random() < w]
    title_words = rng.sample(WORDS, 2)
    return {
        "title": " ".join(title_words).title(),
        "content_type": "image",
        "content_data": f"/data/{rng.randrange(10**9)}.png",
        "path_thumb": None if rng.random() < 0.3 else f"/thumbs/{rng.randrange(10**9)}.png",
        "prompt": " ".join(rng.choices(WORDS, k=rng.randint(3, 8))),
        "creator_id": rng.choice(dataset.users),
        "quality_score": rng.choice([0.0, 0.25, 0.5, 0.5, 0.75, 1.0, rng.random()]),
        "is_private": rng.random() < 0.2,
        "created_at": BASE_TIME + timedelta(minutes=rng.randrange(created_slots)),
        "tags": chosen,
    }


async def add_items(engine: AsyncEngine, source: Source, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    for row in rows:
        row.setdefault("updated_at", row["created_at"])
    async with engine.begin() as conn:
        await conn.execute(insert(CONTENT_TABLES[source]), rows)


async def build_gallery(
    engine: AsyncEngine, seed: int = 7, regular: int = 90, auto: int = 240
) -> Dataset:
    """Users, tags of very different frequencies, and items in both sources."""
    rng = random.Random(seed)
    dataset = Dataset()
    await add_users(engine, 6, dataset)
    await add_tags(engine, [f"tag-{n}" for n in range(10)], dataset)
    weights = [0.9, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.0]
    await add_items(
        engine, Source.REGULAR, [item_row(rng, dataset, weights) for _ in range(regular)]
    )
    await add_items(engine, Source.AUTO, [item_row(rng, dataset, weights) for _ in range(auto)])
    await sync_derived(engine)
    return dataset


async def retag_locked(conn: AsyncConnection, changes: list[Retag]) -> dict[ItemKey, Tagged]:
    """`tagging.retag` as a write calls it: the items locked first, without access checks."""
    return await retag(conn, changes, await lock_items(conn, [change.item for change in changes]))


T = TypeVar("T")


async def write_transaction(
    engine: AsyncEngine,
    fn: Callable[[AsyncConnection], Awaitable[T]],
    *,
    lock_timeout_ms: int | None = None,
) -> T:
    """`run_in_transaction` with the default settings' write timeouts, as mutations run it."""
    settings = Settings()
    return await run_in_transaction(
        engine,
        fn,
        lock_timeout_ms=lock_timeout_ms or settings.lock_timeout_ms,
        statement_timeout_ms=settings.write_statement_timeout_ms,
    )
