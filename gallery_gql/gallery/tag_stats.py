"""Resolving filter tags to their compact keys, with the exact per-source counts the
strategies use to pick a driving tag (kept in tag_counts by the write path)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_uuid
from gallery_gql.db.tables import tag_counts, tags
from gallery_gql.gallery.filters import Source


@dataclass(frozen=True)
class ResolvedTag:
    id: UUID
    tag_key: int
    items: dict[Source, int] = field(default_factory=dict)


async def resolve_tags(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, ResolvedTag]:
    """Tags by UUID with their item counts per source; unknown ids are absent."""
    if not ids:
        return {}
    stmt = (
        select(tags.c.id, tags.c.tag_key, tag_counts.c.source, tag_counts.c["items"])
        .outerjoin(tag_counts, tag_counts.c.tag_key == tags.c.tag_key)
        .where(tags.c.id == any_uuid("tag_ids", ids))
    )
    found: dict[UUID, ResolvedTag] = {}
    for row in await conn.execute(stmt):
        tag = found.setdefault(row.id, ResolvedTag(row.id, row.tag_key))
        if row.source is not None:
            tag.items[Source(row.source)] = int(row.items)
    return found
