"""How often common tags meet: the planner's per-source estimate of the items carrying
both tags of a pair, for pairs among each source's most common tags (tag_pair_counts,
filled from a sample of items by `ops.pair_stats`).

The per-tag counts say how many items carry each tag, never how many carry two: tags
taken as independent, ALL of common tags that rarely meet is expected to fill a page far
sooner than it does (docs/decisions.md). The estimates steer which SQL shape reads a
page, never which rows it returns: stale or missing estimates cost speed only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.tables import tag_pair_counts
from gallery_gql.gallery.keys import Source


@dataclass(frozen=True)
class PairCounts:
    """Estimated items per source carrying both tags of a pair of covered tags."""

    covered: Mapping[Source, frozenset[int]] = field(default_factory=dict)
    """Per source, the tags whose pairs were counted."""
    together: Mapping[tuple[Source, int, int], int] = field(default_factory=dict)
    """(source, lower key, higher key) -> items; a covered pair without an entry was not
    seen together."""

    def items(self, a: int, b: int, source: Source) -> int | None:
        """The estimate for the pair, or None when either tag is not covered."""
        covered = self.covered.get(source, frozenset())
        if a not in covered or b not in covered:
            return None
        low, high = (a, b) if a < b else (b, a)
        return self.together.get((source, low, high), 0)


NO_PAIRS = PairCounts()

_EXISTS = text("SELECT to_regclass('tag_pair_counts') IS NOT NULL")

_ROWS = select(
    tag_pair_counts.c.source,
    func.array_agg(tag_pair_counts.c.tag_a),
    func.array_agg(tag_pair_counts.c.tag_b),
    func.array_agg(tag_pair_counts.c["items"]),
).group_by(tag_pair_counts.c.source)


async def load_pair_counts(conn: AsyncConnection) -> PairCounts:
    """Every stored estimate (one row a source: arrays decode far faster than rows).
    A database without the table (before migration 0004) has none."""
    if not await conn.scalar(_EXISTS):
        return NO_PAIRS
    covered: dict[Source, frozenset[int]] = {}
    together: dict[tuple[Source, int, int], int] = {}
    for number, lows, highs, counts in await conn.execute(_ROWS):
        source = Source(number)
        covered[source] = frozenset(
            low for low, high in zip(lows, highs, strict=True) if low == high
        )
        for low, high, count in zip(lows, highs, counts, strict=True):
            if low != high:
                together[(source, low, high)] = count
    return PairCounts(covered, together)
