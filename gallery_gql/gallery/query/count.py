"""Capped counts: exact up to a cap, "at least cap" beyond it, never a full count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.raw import fetch_rows
from gallery_gql.gallery.query.filters import ContentFilter, Sort
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.gallery.query.shapes import Walk
from gallery_gql.gallery.query.sql import count_statement
from gallery_gql.gallery.query.tag_stats import TagStats


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
    plan = plan_walk(flt, Walk(Sort.NEWEST, True, None, cap + 1), stats, "count")
    stmt = count_statement(plan.shape)
    if stmt is None:
        return Count(0, True)
    found = int((await fetch_rows(conn, stmt, plan.params))[0][0])
    if found > cap:
        return Count(cap, False)
    return Count(found, True)
