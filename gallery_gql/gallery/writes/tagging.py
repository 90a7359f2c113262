"""The one write path for tags: an item's `tags` array and its junction rows change
together, in the caller's transaction, under the item's row lock, and `tag_counts` moves
by exactly the junction's delta (here and nowhere else).

Order of work, the same in every caller so concurrent writers never deadlock:
items locked in (source, id) order (by the caller, `access.lock_items`) → junction rows
deleted/inserted sorted → per-tag counts adjusted in (tag_key, source) order. The array is
the declared source of truth; the junction delta is computed against the junction's actual
rows, so a write also repairs any drift on the items it touches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int, any_uuid
from gallery_gql.db.tables import CONTENT_TABLES, content_tags, tags
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.errors import TooManyTagsError
from gallery_gql.gallery.writes.limits import MAX_TAGS_PER_ITEM
from gallery_gql.gallery.writes.tag_refs import TagRef


class LockedItem(Protocol):
    """What the write path reads of an item its caller locked (an `ItemRecord` is one)."""

    @property
    def is_private(self) -> bool: ...

    @property
    def tags(self) -> tuple[UUID, ...] | None: ...

    @property
    def version(self) -> int: ...


@dataclass(frozen=True)
class Retag:
    """Replace (`set`), or add and remove, an item's tags."""

    item: ItemKey
    set: frozenset[TagRef] | None = None
    add: frozenset[TagRef] = frozenset()
    remove: frozenset[TagRef] = frozenset()


@dataclass(frozen=True)
class Tagged:
    item: ItemKey
    version: int
    tags: tuple[UUID, ...]


async def _tag_keys_of(conn: AsyncConnection, ids: Iterable[UUID]) -> dict[UUID, TagRef]:
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(tags.c.id, tags.c.tag_key).where(tags.c.id == any_uuid("array_ids", wanted))
    return {row.id: TagRef(row.tag_key, row.id) for row in await conn.execute(stmt)}


async def _junction_rows(conn: AsyncConnection, keys: Sequence[ItemKey]) -> dict[ItemKey, set[int]]:
    rows: dict[ItemKey, set[int]] = {key: set() for key in keys}
    for source in sorted({key.source for key in keys}):
        ids = [key.id for key in keys if key.source is source]
        stmt = select(content_tags.c.item_id, content_tags.c.tag_key).where(
            content_tags.c.source == int(source),
            content_tags.c.item_id == any_int(f"junction_{int(source)}", ids),
        )
        for row in await conn.execute(stmt):
            rows[ItemKey(source, row.item_id)].add(row.tag_key)
    return rows


def _new_tags(change: Retag, current: set[TagRef]) -> set[TagRef]:
    base = set(change.set) if change.set is not None else current | set(change.add)
    result = base - set(change.remove)
    if len(result) > MAX_TAGS_PER_ITEM:
        raise TooManyTagsError(change.item, len(result))
    return result


# Each link is found exactly through the unique ix_content_tags_newest: the item's
# created_at (immutable, copied onto every link) completes its key.
_DELETE_LINKS = text(
    """DELETE FROM content_tags ct
    USING unnest(CAST(:sources AS smallint[]), CAST(:items AS int[]), CAST(:tags AS int[]))
        AS d(source, item_id, tag_key)
    JOIN {table} i ON i.id = d.item_id
    WHERE d.source = :source
      AND ct.tag_key = d.tag_key AND ct.source = d.source
      AND ct.created_at = i.created_at AND ct.item_id = d.item_id"""
)

_INSERT_LINKS = text(
    """INSERT INTO content_tags (created_at, tag_key, item_id, source)
    SELECT i.created_at, d.tag_key, d.item_id, d.source
    FROM unnest(CAST(:sources AS smallint[]), CAST(:items AS int[]), CAST(:tags AS int[]))
        AS d(source, item_id, tag_key)
    JOIN {table} i ON i.id = d.item_id
    WHERE d.source = :source
    ORDER BY d.tag_key, d.item_id"""
)

_UPDATE_ARRAYS = text(
    """UPDATE {table} AS i
    SET tags = ARRAY(SELECT CAST(jsonb_array_elements_text(d.tags) AS uuid)),
        version = i.version + 1,
        updated_at = now()
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS d(id int, tags jsonb)
    WHERE i.id = d.id
    RETURNING i.id, i.version"""
)

_ADJUST_COUNTS = text(
    """INSERT INTO tag_counts (tag_key, source, items, private_items)
    SELECT * FROM unnest(CAST(:tags AS int[]), CAST(:sources AS smallint[]),
                         CAST(:items AS bigint[]), CAST(:private AS bigint[]))
    ORDER BY 1, 2
    ON CONFLICT (tag_key, source) DO UPDATE
    SET items = tag_counts.items + EXCLUDED.items,
        private_items = tag_counts.private_items + EXCLUDED.private_items"""
)


def _link_params(links: Sequence[tuple[ItemKey, int]]) -> dict[str, Any]:
    ordered = sorted(links, key=lambda link: (link[1], link[0].source, link[0].id))
    return {
        "sources": [int(key.source) for key, _ in ordered],
        "items": [key.id for key, _ in ordered],
        "tags": [tag for _, tag in ordered],
    }


async def adjust_counts(conn: AsyncConnection, deltas: Counter[tuple[int, Source, bool]]) -> None:
    """Apply per-(tag, source, private) item-count deltas, in key order."""
    merged: dict[tuple[int, Source], list[int]] = {}
    for (tag_key, source, private), delta in deltas.items():
        entry = merged.setdefault((tag_key, source), [0, 0])
        entry[0] += delta
        entry[1] += delta if private else 0
    rows = sorted((key, value) for key, value in merged.items() if value != [0, 0])
    if not rows:
        return
    await conn.execute(
        _ADJUST_COUNTS,
        {
            "tags": [tag for (tag, _), _ in rows],
            "sources": [int(source) for (_, source), _ in rows],
            "items": [value[0] for _, value in rows],
            "private": [value[1] for _, value in rows],
        },
    )


async def _write_links(
    conn: AsyncConnection,
    removed: list[tuple[ItemKey, int]],
    added: list[tuple[ItemKey, int]],
) -> None:
    for source in sorted({key.source for key, _ in removed}):
        part = [(key, tag) for key, tag in removed if key.source is source]
        stmt = text(_DELETE_LINKS.text.format(table=CONTENT_TABLES[source].name))
        await conn.execute(stmt, {**_link_params(part), "source": int(source)})
    for source in sorted({key.source for key, _ in added}):
        part = [(key, tag) for key, tag in added if key.source is source]
        stmt = text(_INSERT_LINKS.text.format(table=CONTENT_TABLES[source].name))
        await conn.execute(stmt, {**_link_params(part), "source": int(source)})


async def _write_arrays(
    conn: AsyncConnection, arrays: dict[ItemKey, tuple[UUID, ...]]
) -> dict[ItemKey, int]:
    versions: dict[ItemKey, int] = {}
    for source in sorted({key.source for key in arrays}):
        payload = [
            {"id": key.id, "tags": [str(t) for t in ids]}
            for key, ids in sorted(arrays.items())
            if key.source is source
        ]
        stmt = text(_UPDATE_ARRAYS.text.format(table=CONTENT_TABLES[source].name))
        result = await conn.execute(stmt, {"payload": orjson.dumps(payload).decode()})
        versions.update({ItemKey(source, row.id): row.version for row in result})
    return versions


async def retag(
    conn: AsyncConnection,
    changes: Sequence[Retag],
    locked: Mapping[ItemKey, LockedItem],
    *,
    fresh: bool = False,
) -> dict[ItemKey, Tagged]:
    """Apply tag changes to items, atomically with the caller's transaction.

    `locked` holds each changed item as the caller locked it (`access.lock_items`, or the
    rows a create just inserted: `fresh`, every array written, bringing them to version
    1): this path neither locks nor checks access or versions again. An item whose tags
    do not change keeps its array, version and `updated_at` (its junction rows are still
    brought in line with the array). Raises TooManyTagsError before writing. Several
    changes to one item apply in order.
    """
    keys = sorted({change.item for change in changes})
    if not keys:
        return {}
    known = await _tag_keys_of(conn, (t for key in keys for t in locked[key].tags or ()))
    state = {key: {known[t] for t in locked[key].tags or () if t in known} for key in keys}
    for change in changes:
        state[change.item] = _new_tags(change, state[change.item])
    junction = await _junction_rows(conn, keys)
    removed, added = [], []
    deltas: Counter[tuple[int, Source, bool]] = Counter()
    for key in keys:
        wanted = {ref.tag_key for ref in state[key]}
        private = locked[key].is_private
        for tag in sorted(junction[key] - wanted):
            removed.append((key, tag))
            deltas[(tag, key.source, private)] -= 1
        for tag in sorted(wanted - junction[key]):
            added.append((key, tag))
            deltas[(tag, key.source, private)] += 1
    await _write_links(conn, removed, added)
    arrays = {key: tuple(sorted((ref.id for ref in state[key]), key=str)) for key in keys}
    changed = {
        key: tags
        for key, tags in arrays.items()
        if fresh or set(tags) != set(locked[key].tags or ())
    }
    versions = {key: locked[key].version for key in keys}
    versions.update(await _write_arrays(conn, changed))
    await adjust_counts(conn, deltas)
    return {key: Tagged(key, versions[key], arrays[key]) for key in keys}


async def move_privacy(conn: AsyncConnection, key: ItemKey, was_private: bool) -> None:
    """Move a locked item's tags between the public and private counts after its privacy
    flipped from `was_private`."""
    stmt = select(content_tags.c.tag_key).where(
        content_tags.c.source == int(key.source), content_tags.c.item_id == key.id
    )
    deltas: Counter[tuple[int, Source, bool]] = Counter()
    for tag_key in (await conn.execute(stmt)).scalars():
        deltas[(tag_key, key.source, was_private)] -= 1
        deltas[(tag_key, key.source, not was_private)] += 1
    await adjust_counts(conn, deltas)
