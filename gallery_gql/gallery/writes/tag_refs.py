"""Tags named in a write request, by UUID or exact name, resolved to their keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_text, any_uuid
from gallery_gql.db.tables import tags
from gallery_gql.gallery.writes.errors import UnknownTagsError


@dataclass(frozen=True, order=True)
class TagRef:
    """A tag as writes use it: its compact key (the junction's) and its UUID (the array's)."""

    tag_key: int
    id: UUID = field(compare=False)


async def tag_refs_by_value(conn: AsyncConnection, refs: Iterable[str]) -> dict[str, TagRef]:
    """Each value that names a tag (by UUID or exact name) → that tag; unknown values are
    left out. One statement for any number of values."""
    values = list(dict.fromkeys(refs))
    ids: dict[str, UUID] = {}
    for value in values:
        try:
            ids[value] = UUID(value)
        except ValueError:
            continue
    names = [value for value in values if value not in ids]
    stmt = select(tags.c.id, tags.c.tag_key, tags.c.name).where(
        (tags.c.id == any_uuid("ref_ids", ids.values()))
        | (tags.c.name == any_text("ref_names", names))
    )
    by_id: dict[UUID, TagRef] = {}
    by_name: dict[str, TagRef] = {}
    for row in await conn.execute(stmt):
        by_id[row.id] = by_name[row.name] = TagRef(row.tag_key, row.id)
    found: dict[str, TagRef] = {}
    for value in values:
        # a tag may also be *named* like a UUID
        ref = (by_id.get(ids[value]) if value in ids else None) or by_name.get(value)
        if ref is not None:
            found[value] = ref
    return found


async def resolve_tag_refs(conn: AsyncConnection, refs: Iterable[str]) -> list[TagRef]:
    """Tags given by UUID or exact name, deduplicated in first-seen order; every unknown
    value is reported at once."""
    values = list(dict.fromkeys(refs))
    by_value = await tag_refs_by_value(conn, values)
    unknown = [value for value in values if value not in by_value]
    if unknown:
        raise UnknownTagsError(unknown)
    found: dict[int, TagRef] = {}
    for value in values:
        ref = by_value[value]
        found.setdefault(ref.tag_key, ref)
    return list(found.values())
