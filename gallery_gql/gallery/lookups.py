"""Batched reads by key: the queries behind the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Executable, Row, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int, any_text, any_uuid
from gallery_gql.db.raw import Plan, fetch_rows
from gallery_gql.db.tables import CONTENT_TABLES, ITEM_READ_COLUMNS, tags, users
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.records import ItemRecord, TagRecord, UserRecord


def _ids_by_source(keys: Sequence[ItemKey]) -> dict[Source, list[int]]:
    grouped: dict[Source, list[int]] = {}
    for key in keys:
        grouped.setdefault(key.source, []).append(key.id)
    return dict(sorted(grouped.items()))


@cache
def _items_statement(sources: tuple[Source, ...]) -> Executable:
    selects = [
        select(
            literal(int(source)).label("source"),
            *(CONTENT_TABLES[source].c[name] for name in ITEM_READ_COLUMNS),
        ).where(CONTENT_TABLES[source].c.id == any_int(f"ids_{int(source)}"))
        for source in sources
    ]
    return selects[0] if len(selects) == 1 else union_all(*selects)


async def fetch_items(conn: AsyncConnection, keys: Sequence[ItemKey]) -> dict[ItemKey, ItemRecord]:
    """Items by (source, id), both sources in one statement."""
    by_source = _ids_by_source(keys)
    if not by_source:
        return {}
    params = {f"ids_{int(source)}": ids for source, ids in by_source.items()}
    result = await conn.execute(_items_statement(tuple(by_source)), params)
    records = [item_record(row) for row in result]
    return {record.key: record for record in records}


def item_record(row: Row[Any]) -> ItemRecord:
    return item_from_columns(row._mapping)


def item_from_columns(m: Mapping[Any, Any]) -> ItemRecord:
    """An item from a row's columns by name (a Row's `_mapping`, or an asyncpg record)."""
    return ItemRecord(
        source=Source(m["source"]),
        id=m["id"],
        title=m["title"],
        content_type=m["content_type"],
        content_data=m["content_data"],
        path_thumb=m["path_thumb"],
        path_thumbs_alt_res=m["path_thumbs_alt_res"],
        prompt=m["prompt"],
        item_metadata=m["item_metadata"],
        creator_id=m["creator_id"],
        quality_score=m["quality_score"],
        is_private=m["is_private"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        tags=tuple(m["tags"]) if "tags" in m else None,
        version=m["version"],
    )


def tag_record(row: Row[Any]) -> TagRecord:
    m = row._mapping
    return TagRecord(
        id=m["id"],
        tag_key=m["tag_key"],
        name=m["name"],
        tag_metadata=m["tag_metadata"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


_USERS_BY_ID = select(*users.c).where(users.c.id == any_uuid("ids"))
_TAGS_BY_ID = select(*tags.c).where(tags.c.id == any_uuid("ids"))
_TAGS_BY_NAME = select(*tags.c).where(tags.c.name == any_text("names"))
_TAG_NAMES = select(tags.c.id, tags.c.name).where(tags.c.id == any_uuid("ids"))


async def fetch_users(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, UserRecord]:
    return {
        row.id: UserRecord(
            row.id, row.username, row.email, row.is_active, row.is_admin, row.created_at
        )
        for row in await conn.execute(_USERS_BY_ID, {"ids": list(ids)})
    }


async def fetch_tags(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, TagRecord]:
    return {row.id: tag_record(row) for row in await conn.execute(_TAGS_BY_ID, {"ids": list(ids)})}


async def fetch_tag_names(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, str]:
    """Tags' names by id (unknown ids are absent), read on the driver (db/raw.py): a
    page's `tags { name }` names 100-1,000 tags, which `fetch_tags` reads whole, each made
    a record through SQLAlchemy's rows (most of that page's CPU, docs/benchmarks.md "Tag
    names on a page"). Under a generic plan: the primary key's index for any number of
    ids, where a custom plan for ~600 of 20,020 tags scans the table (0.5 ms more)."""
    rows = await fetch_rows(conn, _TAG_NAMES, {"ids": list(ids)}, plan=Plan.GENERIC)
    return {row[0]: row[1] for row in rows}


async def fetch_tags_by_name(conn: AsyncConnection, names: Sequence[str]) -> dict[str, TagRecord]:
    rows = await conn.execute(_TAGS_BY_NAME, {"names": list(names)})
    return {row.name: tag_record(row) for row in rows}
