"""Create, update and delete content items, in the caller's transaction (see
`db.transactions.run_in_transaction`).

Items are locked and checked once (`access.lock_checked`) before anything is written, and
every tag change goes through `tagging`, the one write path for tags and their counts.
A call that raises has written nothing once its transaction rolls back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import delete, func, literal, null, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.item_events import EventKind, ItemEvent, announce_item_events
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.lookups import item_record
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.writes.access import item_columns, lock_checked
from gallery_gql.gallery.writes.errors import InvalidContentError
from gallery_gql.gallery.writes.inputs import Actor, ItemChanges, ItemWrite, NewItem
from gallery_gql.gallery.writes.tagging import Retag, move_privacy, retag
from gallery_gql.gallery.writes.validation import changes_problems


@dataclass(frozen=True)
class _Inserted:
    """An item this transaction just inserted (untagged): no other transaction can see,
    let alone lock, it before commit."""

    is_private: bool
    tags: tuple[UUID, ...] = ()
    version: int = 0


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")

_INSERT_ITEMS = """INSERT INTO {table} (id, title, content_type, content_data, path_thumb,
        path_thumbs_alt_res, prompt, item_metadata, creator_id, quality_score, is_private,
        tags, version)
    SELECT r.id, r.title, r.content_type, r.content_data, r.path_thumb,
        r.path_thumbs_alt_res, r.prompt, r.item_metadata, CAST(:creator_id AS uuid),
        r.quality_score, r.is_private, '{{}}'::uuid[], 0
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS r(id int, title text,
        content_type text, content_data text, path_thumb text, path_thumbs_alt_res jsonb,
        prompt text, item_metadata jsonb, quality_score float8, is_private bool)
    ORDER BY r.id"""


async def create_items(
    conn: AsyncConnection, creator_id: UUID, items: Sequence[NewItem]
) -> list[ItemWrite]:
    """Insert items (in input order) and give them their tags through `tagging.retag`.

    Ids are drawn from the sources' sequences first, so each result is exactly its
    input's item. Rows go in without tags at version 0; the retag writes array, junction
    and counts and brings every new item to version 1. Field values are not checked here
    (see `new_item_problems`); the tag limit is.
    """
    ids: dict[Source, list[int]] = {}
    for source in sorted({item.source for item in items}):
        table = CONTENT_TABLES[source]
        count = sum(1 for item in items if item.source is source)
        result = await conn.execute(_NEXT_IDS, {"table": table.name, "n": count})
        ids[source] = sorted(result.scalars())
    keys: list[ItemKey] = []
    taken: Counter[Source] = Counter()
    rows: dict[Source, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        item_id = ids[item.source][taken[item.source]]
        taken[item.source] += 1
        keys.append(ItemKey(item.source, item_id))
        rows[item.source].append({"id": item_id, **item.columns()})
    for source, source_rows in sorted(rows.items()):
        stmt = text(_INSERT_ITEMS.format(table=CONTENT_TABLES[source].name))
        payload = orjson.dumps(source_rows).decode()
        await conn.execute(stmt, {"creator_id": str(creator_id), "payload": payload})
    inserted = {key: _Inserted(item.is_private) for key, item in zip(keys, items, strict=True)}
    changes = [Retag(key, set=item.tags) for key, item in zip(keys, items, strict=True)]
    tagged = await retag(conn, changes, inserted, fresh=True)
    await announce_item_events(
        conn,
        [
            ItemEvent(EventKind.CREATED, key, creator_id, item.is_private)
            for key, item in zip(keys, items, strict=True)
        ],
    )
    return [ItemWrite(key, tagged[key].version, tagged[key].tags) for key in keys]


async def update_item(
    conn: AsyncConnection,
    key: ItemKey,
    changes: ItemChanges,
    expected_version: int | None,
    *,
    actor: Actor | None = None,
) -> ItemRecord:
    """Change an item's mutable fields; version + 1, updated_at = now(). Values equal to
    the item's write nothing (the item is returned as it is).

    The junction holds no copy of the quality score, so a new score touches only the
    item's row; a privacy change moves the item's tags between public and private in
    tag_counts.
    Raises InvalidContentError, ItemNotFoundError, ForbiddenItemError or
    VersionConflictError before writing.
    """
    problems = changes_problems(changes)
    if problems:
        raise InvalidContentError(problems)
    before = (await lock_checked(conn, [key], actor, {key: expected_version}))[key]
    values = changes.given()
    if all(getattr(before, name) == value for name, value in values.items()):
        return before  # a change to what is already there writes nothing
    if "quality_score" in values:
        values["quality_score"] = float(values["quality_score"])
    if "path_thumbs_alt_res" in values and values["path_thumbs_alt_res"] is None:
        values["path_thumbs_alt_res"] = null()  # SQL NULL, not JSON null
    table = CONTENT_TABLES[key.source]
    stmt = (
        update(table)
        .where(table.c.id == key.id)
        .values(**values, version=table.c.version + 1, updated_at=func.now())
        .returning(literal(int(key.source)).label("source"), *item_columns(table))
    )
    after = item_record((await conn.execute(stmt)).one())
    if after.is_private != before.is_private:
        await move_privacy(conn, key, before.is_private)
    event = ItemEvent(EventKind.UPDATED, key, before.creator_id, before.is_private)
    await announce_item_events(conn, [event])
    return after


async def delete_items(
    conn: AsyncConnection,
    keys: Sequence[ItemKey],
    *,
    actor: Actor | None = None,
    expected_versions: Mapping[ItemKey, int | None] | None = None,
) -> list[ItemKey]:
    """Delete items with their junction rows, decrementing tag counts.

    Locks the items in (source, id) order, checks them all, untags them through
    `tagging.retag` (which removes every junction row and adjusts the counts), then
    deletes the rows. Raises ItemNotFoundError, ForbiddenItemError or
    VersionConflictError before writing.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return []
    locked = await lock_checked(conn, wanted, actor, expected_versions or {})
    await retag(conn, [Retag(key, set=frozenset()) for key in wanted], locked)
    for source in sorted({key.source for key in wanted}):
        table = CONTENT_TABLES[source]
        ids = [key.id for key in wanted if key.source is source]
        await conn.execute(delete(table).where(table.c.id == any_int("delete_ids", ids)))
    await announce_item_events(
        conn,
        [
            ItemEvent(EventKind.DELETED, key, locked[key].creator_id, locked[key].is_private)
            for key in wanted
        ],
    )
    return wanted
