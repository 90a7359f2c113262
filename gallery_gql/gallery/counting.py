"""Capped counts: exact up to a cap, "at least cap" beyond it, never a full count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.gallery.filters import ContentFilter, Sort
from gallery_gql.gallery.strategies import Walk, page_keys
from gallery_gql.gallery.tag_stats import TagStats


@dataclass(frozen=True)
class Count:
    count: int
    is_exact: bool


async def count_matches(
    conn: AsyncConnection, flt: ContentFilter, stats: TagStats, cap: int
) -> Count:
    """How many items match: walks at most cap + 1 of them."""
    if flt.matches_nothing:
        return Count(0, True)
    keys = page_keys(flt, Walk(Sort.NEWEST, True, None, cap + 1), stats)
    if keys is None:
        return Count(0, True)
    found = int(
        (await conn.execute(select(func.count()).select_from(keys.subquery()))).scalar_one()
    )
    if found > cap:
        return Count(cap, False)
    return Count(found, True)
