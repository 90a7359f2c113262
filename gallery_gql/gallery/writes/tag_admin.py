"""Tag administration: new tags and edges of the hierarchy (a DAG over tag_parents).

Edits of the hierarchy take one transaction-scoped advisory lock, so two concurrent
edits cannot each pass the cycle check and together close a cycle. Tags are never
created implicitly elsewhere: content writes reject unknown tags.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_uuid
from gallery_gql.db.tables import tag_parents, tags
from gallery_gql.gallery.lookups import tag_record
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_tree import fetch_ancestors, name_fault
from gallery_gql.gallery.writes.errors import (
    DuplicateTagNameError,
    InvalidParentsError,
    InvalidTagNameError,
    TagCycleError,
    TagLinkNotFoundError,
    UnknownTagsError,
)
from gallery_gql.gallery.writes.limits import MAX_PARENTS
from gallery_gql.gallery.writes.tag_refs import tag_refs_by_value

_HIERARCHY_LOCK = 0x7A67_0001  # pg_advisory_xact_lock key for hierarchy edits


def check_tag_name(name: str) -> str:
    """The name if it is acceptable for a new tag, else InvalidTagNameError."""
    if (fault := name_fault(name)) is not None:
        raise InvalidTagNameError(fault)
    if name != name.strip():
        raise InvalidTagNameError("a tag name must not start or end with whitespace")
    try:
        UUID(name)
    except ValueError:
        return name
    raise InvalidTagNameError("a tag name must not look like a tag id (a UUID)")


async def _lock_hierarchy(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _HIERARCHY_LOCK})


async def _tags_by_value(conn: AsyncConnection, values: Sequence[str]) -> dict[str, TagRecord]:
    refs = await tag_refs_by_value(conn, values)
    unknown = [value for value in dict.fromkeys(values) if value not in refs]
    if unknown:
        raise UnknownTagsError(unknown)
    stmt = select(*tags.c).where(tags.c.id == any_uuid("ids", {ref.id for ref in refs.values()}))
    records = {row.id: tag_record(row) for row in await conn.execute(stmt)}
    return {value: records[ref.id] for value, ref in refs.items()}


async def create_tag(conn: AsyncConnection, name: str, parents: Sequence[str] = ()) -> TagRecord:
    """A new tag, optionally under existing parents (tag UUIDs or exact names).

    A new tag has no children, so its edges cannot close a cycle. Raises
    InvalidTagNameError, InvalidParentsError, UnknownTagsError (naming every unknown
    parent) or DuplicateTagNameError before anything is kept.
    """
    check_tag_name(name)
    if len(parents) > MAX_PARENTS:
        raise InvalidParentsError(f"a tag takes at most {MAX_PARENTS} parents")
    found = await _tags_by_value(conn, list(parents)) if parents else {}
    stmt = (
        insert(tags)
        .values(id=uuid.uuid4(), name=name)
        .on_conflict_do_nothing(index_elements=[tags.c.name])
        .returning(*tags.c)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise DuplicateTagNameError(name)
    record = tag_record(row)
    parent_ids = sorted({parent.id for parent in found.values()})
    if parent_ids:
        await conn.execute(
            insert(tag_parents), [{"tag_id": record.id, "parent_id": p} for p in parent_ids]
        )
    return record


async def add_tag_parent(
    conn: AsyncConnection, tag: str, parent: str
) -> tuple[TagRecord, TagRecord]:
    """Put `tag` under `parent` (each a tag UUID or exact name); (tag, parent).

    Adding an edge that exists already changes nothing. Raises UnknownTagsError or
    TagCycleError (the parent is the tag or one of its descendants).
    """
    found = await _tags_by_value(conn, [tag, parent])
    child, above = found[tag], found[parent]
    if child.id == above.id:
        raise TagCycleError(child.name, above.name)
    await _lock_hierarchy(conn)
    ancestors = await fetch_ancestors(conn, [above.id])
    if any(record.id == child.id for record in ancestors[above.id]):
        raise TagCycleError(child.name, above.name)
    stmt = (
        insert(tag_parents)
        .values(tag_id=child.id, parent_id=above.id)
        .on_conflict_do_nothing(index_elements=[tag_parents.c.tag_id, tag_parents.c.parent_id])
    )
    await conn.execute(stmt)
    return child, above


async def remove_tag_parent(
    conn: AsyncConnection, tag: str, parent: str
) -> tuple[TagRecord, TagRecord]:
    """Take `tag` out from under `parent`; (tag, parent). Raises UnknownTagsError, or
    TagLinkNotFoundError when `parent` is not a direct parent of `tag`."""
    found = await _tags_by_value(conn, [tag, parent])
    child, above = found[tag], found[parent]
    await _lock_hierarchy(conn)
    result = await conn.execute(
        delete(tag_parents).where(
            tag_parents.c.tag_id == child.id, tag_parents.c.parent_id == above.id
        )
    )
    if result.rowcount == 0:
        raise TagLinkNotFoundError(child.name, above.name)
    return child, above
