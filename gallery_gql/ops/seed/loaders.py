"""Users, tags, items and tag counts COPYed as records (the junction: `junction`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gallery_gql.db.tables import ITEM_COLUMNS
from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed.database import CONTENT_TABLES, reset_identity
from gallery_gql.ops.seed.plan import Dataset
from gallery_gql.ops.seed.streams import PG_EPOCH, TAGS_CREATED, chunk_bounds
from gallery_gql.ops.seed.tags import TagTree
from gallery_gql.ops.seed.text import item_text
from gallery_gql.ops.seed.users import Users


def _moment(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


async def load_users(conn: Any, users: Users, progress: ProgressCallback) -> None:
    total = len(users.ids)
    progress("users", 0, total)
    records = [
        (users.ids[i], users.usernames[i], users.emails[i], active, i == 0, _moment(created))
        for i, (active, created) in enumerate(
            zip(users.active.tolist(), users.created_us.tolist(), strict=True)
        )
    ]
    columns = ("id", "username", "email", "is_active", "is_admin", "created_at")
    await conn.copy_records_to_table("users", records=records, columns=columns)
    progress("users", total, total)


async def load_tags(conn: Any, tree: TagTree, progress: ProgressCallback) -> list[Any]:
    """Insert tags with tag_key = index + 1; return their ids as asyncpg UUIDs, by index.

    COPY writes identity values as given (like OVERRIDING SYSTEM VALUE), so the sequence is
    moved past them. asyncpg's own UUID objects encode without a Python-level round trip,
    which matters when they fill millions of array elements.
    """
    total = len(tree.names)
    progress("tags", 0, total)
    stamp = TAGS_CREATED
    records = [
        (tree.ids[i], i + 1, tree.names[i], tree.metadata[i], stamp, stamp) for i in range(total)
    ]
    columns = ("id", "tag_key", "name", "tag_metadata", "created_at", "updated_at")
    await conn.copy_records_to_table("tags", records=records, columns=columns)
    edges = [(tree.ids[child], tree.ids[parent]) for child, parent in tree.edges]
    await conn.copy_records_to_table("tag_parents", records=edges, columns=("tag_id", "parent_id"))
    await reset_identity(conn, "tags", "tag_key", total)
    progress("tags", total, total)
    return list(await conn.fetch("SELECT id FROM tags ORDER BY tag_key"))


def item_records(
    data: Dataset, seed: int, chunk: int, lo: int, hi: int, tag_ids: NDArray[Any]
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(source, row) for each item of one chunk, in global order."""
    items, links = data.items, data.links[chunk]
    text = item_text(seed, chunk, items.source[lo:hi], items.item_id[lo:hi])
    arrays = tag_ids[links.tags].tolist()
    bounds = links.indptr.tolist()
    creators = data.users.ids
    columns = zip(
        items.source[lo:hi].tolist(),
        items.item_id[lo:hi].tolist(),
        items.created_us[lo:hi].tolist(),
        items.quality[lo:hi].tolist(),
        items.private[lo:hi].tolist(),
        items.creator[lo:hi].tolist(),
        strict=True,
    )
    for i, (source, ident, created, quality, private, creator) in enumerate(columns):
        moment = _moment(created)
        row = (
            ident,
            text.title[i],
            text.content_type[i],
            text.content_data[i],
            text.path_thumb[i],
            text.alt_res[i],
            text.prompt[i],
            text.metadata[i],
            creators[creator],
            quality,
            private,
            moment,
            moment,
            arrays[bounds[i] : bounds[i + 1]],
        )
        yield source, row


async def load_items(
    conn: Any, data: Dataset, seed: int, tag_ids: list[Any], progress: ProgressCallback
) -> None:
    total = len(data.items)
    progress("items", 0, total)
    id_objects = np.empty(len(tag_ids), dtype=object)
    id_objects[:] = [row["id"] for row in tag_ids]
    for chunk, (lo, hi) in enumerate(chunk_bounds(total)):
        by_source: tuple[list[tuple[Any, ...]], ...] = ([], [])
        for source, row in item_records(data, seed, chunk, lo, hi, id_objects):
            by_source[source].append(row)
        for table, rows in zip(CONTENT_TABLES, by_source, strict=True):
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=ITEM_COLUMNS)
        progress("items", hi, total)
    for source, table in enumerate(CONTENT_TABLES):
        await reset_identity(conn, table, "id", int(np.sum(data.items.source == source)))


async def load_counts(conn: Any, data: Dataset, progress: ProgressCallback) -> None:
    """tag_counts straight from the generated links: one row per (tag, source) present."""
    counts = data.tag_counts()
    records = []
    for source in (0, 1):
        items = counts[source].sum(axis=0)
        private = counts[source][1]
        for tag in np.flatnonzero(items).tolist():
            records.append((tag + 1, source, int(items[tag]), int(private[tag])))
    progress("counts", 0, len(records))
    await conn.copy_records_to_table(
        "tag_counts", records=records, columns=("tag_key", "source", "items", "private_items")
    )
    progress("counts", len(records), len(records))
