"""The junction (content_tags) COPYed in PostgreSQL's binary format, built directly from
numpy arrays in the order of its newest-first index."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed.items import Items
from gallery_gql.ops.seed.plan import Dataset
from gallery_gql.ops.seed.streams import chunk_bounds

LINK_COLUMNS = ("created_at", "tag_key", "item_id", "source")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
# One binary COPY tuple of content_tags: field count, then (length, value) per column.
_LINK_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("created_len", ">i4"),
        ("created_at", ">i8"),
        ("tag_len", ">i4"),
        ("tag_key", ">i4"),
        ("item_len", ">i4"),
        ("item_id", ">i4"),
        ("source_len", ">i4"),
        ("source", ">i2"),
    ]
)
_LINK_CONSTANTS = {
    "fields": 4,
    "created_len": 8,
    "tag_len": 4,
    "item_len": 4,
    "source_len": 2,
}


LINK_BATCH = 1_000_000


def junction_order(data: Dataset) -> tuple[NDArray[np.int32], NDArray[np.uint16]]:
    """Every (item position, tag index) link, in ix_content_tags_newest order.

    Loading the heap in that order makes that index's build a near-linear pass over
    presorted input and keeps each tag's newest rows together on disk. Item positions
    ascend with (created_at, id) within a source, so reversed positions under a stable
    sort by (tag, source) give (tag, source, created_at DESC, item_id DESC).
    """
    assert len(data.tags.names) * 2 < 2**16, "tag indices must fit the uint16 sort key"
    sizes = [np.diff(links.indptr) for links in data.links]
    item = np.concatenate(
        [
            np.repeat(np.arange(lo, hi, dtype=np.int32), size)
            for (lo, hi), size in zip(chunk_bounds(len(data.items)), sizes, strict=True)
        ]
        or [np.empty(0, dtype=np.int32)]
    )[::-1]
    tag = np.concatenate([links.tags for links in data.links] or [np.empty(0, np.int32)])
    tag = tag.astype(np.uint16)[::-1]
    group = tag * np.uint16(2) + data.items.source[item].astype(np.uint16)
    order = np.argsort(group, kind="stable")
    return item[order], tag[order]


def encode_link_rows(items: Items, item: NDArray[np.int32], tag: NDArray[np.uint16]) -> bytes:
    """Junction rows as binary COPY tuples (no header or trailer)."""
    rows = np.empty(len(item), dtype=_LINK_ROW)
    for name, value in _LINK_CONSTANTS.items():
        rows[name] = value
    rows["created_at"] = items.created_us[item]
    rows["tag_key"] = tag.astype(np.int32) + 1
    rows["item_id"] = items.item_id[item]
    rows["source"] = items.source[item]
    return rows.tobytes()


async def _link_stream(data: Dataset, progress: ProgressCallback) -> AsyncIterator[bytes]:
    item, tag = junction_order(data)
    total = len(item)
    progress("links", 0, total)
    yield _COPY_HEADER
    for lo in range(0, total, LINK_BATCH):
        hi = min(lo + LINK_BATCH, total)
        yield encode_link_rows(data.items, item[lo:hi], tag[lo:hi])
        progress("links", hi, total)
    yield _COPY_TRAILER


async def load_links(conn: Any, data: Dataset, progress: ProgressCallback) -> None:
    """COPY the junction frozen, so its pages are all-visible at once and index-only scans
    need no VACUUM first. FREEZE requires a table truncated in this transaction; it was
    verified empty under lock, so the TRUNCATE loses nothing."""
    await conn.execute("TRUNCATE content_tags")
    await conn.copy_to_table(
        "content_tags",
        source=_link_stream(data, progress),
        columns=LINK_COLUMNS,
        format="binary",
        freeze=True,
    )
