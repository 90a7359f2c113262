"""Refreshing the planner's pair estimates (tag_pair_counts, `gallery.query.pair_counts`):
how many items of each source carry both tags of a pair, for pairs among the source's
most common tags, counted on a sample of its items and scaled to the source.

A sample of pages (`TABLESAMPLE SYSTEM`, repeatable) gives each sampled item's covered
tags; the pair counts are X^T X of the 0/1 item x tag matrix, in chunks of items. Run
by `gallery-gql pair-stats` and at the end of `seed`; seconds at full scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Integer, Select, SmallInteger, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gallery_gql.db.tables import CONTENT_TABLES, tag_counts, tag_pair_counts
from gallery_gql.gallery.keys import Source

COVERED_SHARE = 0.01
"""A source's tags on at least this share of its items have their pairs counted: rarer
tags bound ALL by themselves (the planner's walk and bitmap costs go by the rarest tag)."""

COVERED_MAX = 256
"""At most this many tags a source (the most common): 32,640 pairs."""

SAMPLE_ITEMS = 100_000
"""About this many items sampled a source (all of a smaller one): a pair on 0.1% of the
items is seen ~100 times."""

CHUNK_ITEMS = 20_000
SAMPLE_SEED = 42


@dataclass(frozen=True)
class SourcePairs:
    source: Source
    sampled: int  # items in the sample
    covered: int  # tags covered
    pairs: int  # pairs seen together


_SIZE = {
    source: select(func.count()).select_from(table) for source, table in CONTENT_TABLES.items()
}


def _covered(source: Source, size: int) -> Select[Any]:
    return (
        select(tag_counts.c.tag_key)
        .where(tag_counts.c.source == int(source), tag_counts.c["items"] >= COVERED_SHARE * size)
        .order_by(tag_counts.c["items"].desc(), tag_counts.c.tag_key)
        .limit(COVERED_MAX)
    )


def _sample_sql(source: Source) -> str:
    table = CONTENT_TABLES[source].name
    return f"""
        WITH sampled AS MATERIALIZED (
            SELECT id, tags FROM {table} TABLESAMPLE SYSTEM (:percent) REPEATABLE ({SAMPLE_SEED})
        ), covered AS (
            SELECT id, tag_key FROM tags WHERE tag_key = ANY(:keys)
        )
        SELECT (SELECT count(*) FROM sampled) AS sampled,
               array_agg(s.id) AS item_ids, array_agg(c.tag_key) AS tag_keys
        FROM sampled s CROSS JOIN LATERAL unnest(s.tags) AS u(tag_id)
        JOIN covered c ON c.id = u.tag_id
    """


def pair_matrix(
    item_ids: NDArray[np.int64], columns: NDArray[np.int64], width: int
) -> NDArray[np.int64]:
    """How many items carry both tags of each pair of columns (the diagonal: each tag's
    items), from (item, column) links: X^T X of the 0/1 item x column matrix, a chunk of
    items at a time."""
    _, rows = np.unique(item_ids, return_inverse=True)
    counts = np.zeros((width, width), dtype=np.int64)
    height = int(rows.max()) + 1 if len(rows) else 0
    order = np.argsort(rows, kind="stable")
    rows, columns = rows[order], columns[order]
    for start in range(0, height, CHUNK_ITEMS):
        lo, hi = np.searchsorted(rows, [start, start + CHUNK_ITEMS])
        block = np.zeros((min(CHUNK_ITEMS, height - start), width), dtype=np.float32)
        block[rows[lo:hi] - start, columns[lo:hi]] = 1.0
        counts += np.rint(block.T @ block).astype(np.int64)
    return counts


PairColumns = tuple[list[int], list[int], list[int]]
"""tag_a, tag_b and items of a source's rows, as the insert binds them."""

_NO_ROWS: PairColumns = ([], [], [])


async def _source_pairs(conn: AsyncConnection, source: Source) -> tuple[SourcePairs, PairColumns]:
    size = int(await conn.scalar(_SIZE[source]) or 0)
    keys = sorted(int(key) for key in await conn.scalars(_covered(source, size)))
    if not size or not keys:
        return SourcePairs(source, 0, 0, 0), _NO_ROWS
    percent = min(100.0, 100.0 * SAMPLE_ITEMS / size)
    row = (await conn.execute(text(_sample_sql(source)), {"percent": percent, "keys": keys})).one()
    sampled = int(row.sampled)
    if not sampled or row.item_ids is None:
        return SourcePairs(source, sampled, len(keys), 0), _NO_ROWS
    key_array = np.asarray(keys, dtype=np.int64)
    columns = np.searchsorted(key_array, np.asarray(row.tag_keys, dtype=np.int64))
    counts = pair_matrix(np.asarray(row.item_ids, dtype=np.int64), columns, len(keys))
    scale = size / sampled
    low, high = np.triu_indices(len(keys))
    seen = counts[low, high] > 0
    seen |= low == high  # every covered tag gets its row
    estimates = np.rint(counts[low, high][seen] * scale).astype(np.int64)
    rows = (key_array[low[seen]].tolist(), key_array[high[seen]].tolist(), estimates.tolist())
    return SourcePairs(source, sampled, len(keys), len(estimates) - len(keys)), rows


_INSERT = text(
    "INSERT INTO tag_pair_counts (source, tag_a, tag_b, items)"
    " SELECT :source, unnest(:tag_a), unnest(:tag_b), unnest(:items)"
).bindparams(
    bindparam("source", type_=SmallInteger),
    bindparam("tag_a", type_=ARRAY(Integer)),
    bindparam("tag_b", type_=ARRAY(Integer)),
    bindparam("items", type_=ARRAY(Integer)),
)


async def refresh_pair_counts(conn: AsyncConnection) -> list[SourcePairs]:
    """Replace every source's estimates (in the caller's transaction)."""
    done = []
    for source in Source:
        summary, (tag_a, tag_b, items) = await _source_pairs(conn, source)
        await conn.execute(delete(tag_pair_counts).where(tag_pair_counts.c.source == int(source)))
        if items:
            params = {"source": int(source), "tag_a": tag_a, "tag_b": tag_b, "items": items}
            await conn.execute(_INSERT, params)
        done.append(summary)
    return done


async def refresh_pair_counts_at(url: str) -> list[SourcePairs]:
    engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.begin() as conn:
            return await refresh_pair_counts(conn)
    finally:
        await engine.dispose()
