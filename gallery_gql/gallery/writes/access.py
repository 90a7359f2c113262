"""Who may change which item: items are locked once, in (source, id) order, and checked
once (existence, access, expected version) under that lock, before anything is written.

Per-transaction lock order, the same in every write: idempotency keys (by key) → items
(by source, id) → junction rows (by tag, item) → tag_counts (by tag, source).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.lookups import item_record
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.writes.errors import (
    ForbiddenItemError,
    ItemNotFoundError,
    VersionConflictError,
)
from gallery_gql.gallery.writes.inputs import Actor


def item_columns(table: Table) -> list[Any]:
    return [column for column in table.c if column.name != "search_vector"]


async def lock_items(conn: AsyncConnection, keys: Iterable[ItemKey]) -> dict[ItemKey, ItemRecord]:
    """The items that exist among `keys`, locked FOR UPDATE in (source, id) order."""
    wanted = sorted(set(keys))
    locked: dict[ItemKey, ItemRecord] = {}
    for source in sorted({key.source for key in wanted}):
        table = CONTENT_TABLES[source]
        stmt = (
            select(literal(int(source)).label("source"), *item_columns(table))
            .where(table.c.id == any_int(f"lock_{int(source)}", [k.id for k in wanted]))
            .order_by(table.c.id)
            .with_for_update()
        )
        for row in await conn.execute(stmt):
            record = item_record(row)
            locked[record.key] = record
    return locked


def access_problem(
    key: ItemKey, record: ItemRecord | None, actor: Actor | None
) -> Exception | None:
    """Why `actor` may not change the item, if it may not. Others' private items are
    reported as missing, so their existence is not revealed. No actor: no check."""
    if record is None:
        return ItemNotFoundError([key])
    if actor is None or actor.is_admin or record.creator_id == actor.user_id:
        return None
    if record.is_private:
        return ItemNotFoundError([key])
    return ForbiddenItemError(key)


def version_problem(record: ItemRecord, expected: int | None) -> Exception | None:
    if expected is not None and expected != record.version:
        return VersionConflictError(record.key, expected, record.version)
    return None


async def lock_checked(
    conn: AsyncConnection,
    keys: Sequence[ItemKey],
    actor: Actor | None,
    expected_versions: Mapping[ItemKey, int | None],
) -> dict[ItemKey, ItemRecord]:
    """Lock the items and check each once: it exists, `actor` may change it, and it is at
    its expected version. Raises the first problem found, before anything is written."""
    locked = await lock_items(conn, keys)
    missing = sorted(key for key in set(keys) if key not in locked)
    if missing:
        raise ItemNotFoundError(missing)
    for key in sorted(set(keys)):
        problem = access_problem(key, locked[key], actor) or version_problem(
            locked[key], expected_versions.get(key)
        )
        if problem is not None:
            raise problem
    return locked
