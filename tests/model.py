"""The independent oracle: plain Python over the same rows the database holds.

It reads the items (with their tag arrays, not the junction) and answers what a page
request must return, without any of the gateway's query code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ModelItem:
    source: str  # "REGULAR" | "AUTO"
    id: int
    creator_id: UUID
    is_private: bool
    created_at: datetime
    quality_score: float
    tags: frozenset[UUID]
    words: frozenset[str]


async def load_items(engine: AsyncEngine) -> list[ModelItem]:
    items = []
    async with engine.connect() as conn:
        for source, table in (("REGULAR", "content_items"), ("AUTO", "content_items_auto")):
            rows = await conn.execute(
                text(
                    f"SELECT id, creator_id, is_private, created_at, quality_score, tags, title,"
                    f" prompt FROM {table}"
                )
            )
            for row in rows:
                words = frozenset(_WORD.findall(f"{row.title} {row.prompt}".lower()))
                items.append(
                    ModelItem(
                        source,
                        row.id,
                        row.creator_id,
                        row.is_private,
                        row.created_at,
                        row.quality_score,
                        frozenset(row.tags),
                        words,
                    )
                )
    return items


@dataclass(frozen=True)
class ModelQuery:
    tags: tuple[UUID, ...] = ()
    match: str = "ANY"
    exclude_tags: tuple[UUID, ...] = ()
    sources: tuple[str, ...] | None = None
    creator_id: UUID | None = None
    not_creator_id: UUID | None = None
    search: str | None = None
    viewer_id: UUID | None = None
    sort: str = "NEWEST"
    collections: frozenset[str] | None = None  # e.g. {"USER_REGULAR", "COMMUNITY_AUTO"}


_SOURCE_RANK = {"REGULAR": 0, "AUTO": 1}


def _matches(item: ModelItem, q: ModelQuery) -> bool:
    if item.is_private and item.creator_id != q.viewer_id:
        return False
    if q.sources is not None and item.source not in q.sources:
        return False
    if q.collections is not None:
        own = q.viewer_id is not None and item.creator_id == q.viewer_id
        if f"{'USER' if own else 'COMMUNITY'}_{item.source}" not in q.collections:
            return False
    if q.creator_id is not None and item.creator_id != q.creator_id:
        return False
    if q.not_creator_id is not None and item.creator_id == q.not_creator_id:
        return False
    wanted = set(q.tags)
    if wanted:
        if q.match == "ALL" and not wanted <= item.tags:
            return False
        if q.match == "ANY" and not wanted & item.tags:
            return False
    if set(q.exclude_tags) & item.tags:
        return False
    if q.search is not None:
        words = set(_WORD.findall(q.search.lower()))
        if not words <= item.words:
            return False
    return True


def expected(items: list[ModelItem], q: ModelQuery) -> list[tuple[str, int]]:
    """Matching items as (source, id) in the query's order."""
    by_date = q.sort in ("NEWEST", "OLDEST")
    descending = q.sort in ("NEWEST", "TOP_RATED")
    chosen = [item for item in items if _matches(item, q)]
    chosen.sort(
        key=lambda i: (i.created_at if by_date else i.quality_score, _SOURCE_RANK[i.source], i.id),
        reverse=descending,
    )
    return [(item.source, item.id) for item in chosen]
