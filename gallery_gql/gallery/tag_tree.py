"""The tag hierarchy (a DAG over tag_parents), batched for loaders.

Every read takes all of its keys at once and runs one statement. The transitive reads are
recursive CTEs whose UNION (not UNION ALL) drops repeated (origin, tag) pairs, so each
ancestor or descendant appears once and a cycle in bad data cannot loop forever.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    Select,
    exists,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int, any_uuid
from gallery_gql.db.tables import tag_counts, tag_parents, tags
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.lookups import tag_record
from gallery_gql.gallery.records import TagRecord

MAX_NAME_LENGTH = 255


def name_fault(name: str) -> str | None:
    """Why no tag can have this name (empty, too long, control characters: PostgreSQL
    refuses a NUL), or None. Names that fail are refused before any SQL."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return f"a tag name is 1 to {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "a tag name has no control characters"
    return None


async def _related(
    conn: AsyncConnection, ids: Sequence[UUID], origin: Any, stmt: Select[Any]
) -> dict[UUID, list[TagRecord]]:
    """Run `stmt` (rows: origin + tag columns, ordered by origin, name) and group by origin."""
    out: dict[UUID, list[TagRecord]] = {tag_id: [] for tag_id in ids}
    for row in await conn.execute(stmt):
        out[row._mapping[origin]].append(tag_record(row))
    return out


async def fetch_parents(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, list[TagRecord]]:
    """Each tag's direct parents, ordered by name."""
    stmt = (
        select(tag_parents.c.tag_id.label("origin"), *tags.c)
        .join(tags, tags.c.id == tag_parents.c.parent_id)
        .where(tag_parents.c.tag_id == any_uuid("ids", ids))
        .order_by(tag_parents.c.tag_id, tags.c.name)
    )
    return await _related(conn, ids, "origin", stmt)


async def fetch_children(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, list[TagRecord]]:
    """Each tag's direct children, ordered by name."""
    stmt = (
        select(tag_parents.c.parent_id.label("origin"), *tags.c)
        .join(tags, tags.c.id == tag_parents.c.tag_id)
        .where(tag_parents.c.parent_id == any_uuid("ids", ids))
        .order_by(tag_parents.c.parent_id, tags.c.name)
    )
    return await _related(conn, ids, "origin", stmt)


def _closure(ids: Sequence[UUID], *, upward: bool) -> CTE:
    """(origin, tag_id) for every tag reachable from an origin, one row per pair.

    Upward follows tag → parent (ancestors); downward follows parent → tag (descendants).
    """
    near, far = (
        (tag_parents.c.tag_id, tag_parents.c.parent_id)
        if upward
        else (tag_parents.c.parent_id, tag_parents.c.tag_id)
    )
    seed = select(near.label("origin"), far.label("tag_id")).where(near == any_uuid("ids", ids))
    closure = seed.cte("closure", recursive=True)
    step = (
        select(closure.c.origin, far)
        .select_from(tag_parents)
        .join(closure, near == closure.c.tag_id)
    )
    return closure.union(step)


async def _transitive(
    conn: AsyncConnection, ids: Sequence[UUID], *, upward: bool
) -> dict[UUID, list[TagRecord]]:
    closure = _closure(ids, upward=upward)
    stmt = (
        select(closure.c.origin, *tags.c)
        .join(tags, tags.c.id == closure.c.tag_id)
        .where(closure.c.tag_id != closure.c.origin)  # a cycle would reach the origin
        .order_by(closure.c.origin, tags.c.name)
    )
    return await _related(conn, ids, "origin", stmt)


async def fetch_ancestors(
    conn: AsyncConnection, ids: Sequence[UUID]
) -> dict[UUID, list[TagRecord]]:
    """Each tag's transitive parents, each once, without the tag itself, ordered by name."""
    return await _transitive(conn, ids, upward=True)


async def fetch_descendants(
    conn: AsyncConnection, ids: Sequence[UUID]
) -> dict[UUID, list[TagRecord]]:
    """Each tag's transitive children, each once, without the tag itself, ordered by name."""
    return await _transitive(conn, ids, upward=False)


async def fetch_roots(conn: AsyncConnection) -> list[TagRecord]:
    """Tags without parents, ordered by name."""
    has_parent = exists().where(tag_parents.c.tag_id == tags.c.id)
    stmt = select(*tags.c).where(~has_parent).order_by(tags.c.name)
    return [tag_record(row) for row in await conn.execute(stmt)]


async def fetch_public_counts(
    conn: AsyncConnection, tag_keys: Sequence[int]
) -> dict[int, dict[Source, int]]:
    """Per tag key and source, how many public items carry the tag (private ones excluded)."""
    # `c["items"]`: `c.items` is the column collection's method, not the column.
    public = func.greatest(tag_counts.c["items"] - tag_counts.c.private_items, 0)
    stmt = select(tag_counts.c.tag_key, tag_counts.c.source, public.label("public")).where(
        tag_counts.c.tag_key == any_int("keys", tag_keys)
    )
    out: dict[int, dict[Source, int]] = {key: {} for key in tag_keys}
    for row in await conn.execute(stmt):
        out[row.tag_key][Source(row.source)] = int(row.public)
    return out
