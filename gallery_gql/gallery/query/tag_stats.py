"""Resolving filter tags to their compact keys, with the exact per-source counts the
strategies use to pick a driving tag (kept in tag_counts by the write path) and the
estimates of how often common tags meet (`pair_counts`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import BigInteger, Select, cast, column, literal, select, table
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_text, any_uuid
from gallery_gql.db.reads import ReadSource, run_read
from gallery_gql.db.tables import CONTENT_TABLES, tag_counts, tags
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.pair_counts import NO_PAIRS, PairCounts, load_pair_counts


@dataclass(frozen=True)
class ResolvedTag:
    id: UUID
    tag_key: int
    name: str
    items: dict[Source, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TagStats:
    """What the strategies choose by: exact items per (tag key, source), from tag_counts,
    and the planner's estimate of items per source (pg_class.reltuples)."""

    tags: Mapping[int, Mapping[Source, int]] = field(default_factory=dict)
    source_items: Mapping[Source, int] = field(default_factory=dict)
    ids: Mapping[int, UUID] = field(default_factory=dict)
    """Tag key → UUID, so item tag arrays can be tested against bound values."""
    pairs: PairCounts = NO_PAIRS
    """Estimated items carrying both tags of a pair of common tags (None: unknown)."""

    def items(self, tag_key: int, source: Source) -> int:
        return self.tags.get(tag_key, {}).get(source, 0)

    def together(self, a: int, b: int, source: Source) -> int | None:
        return self.pairs.items(a, b, source)


@dataclass(frozen=True)
class ResolvedTags:
    by_id: dict[UUID, ResolvedTag]
    stats: TagStats

    @property
    def by_name(self) -> dict[str, ResolvedTag]:
        return {tag.name: tag for tag in self.by_id.values()}


_pg_class = table("pg_class", column("oid"), column("reltuples"))


def _estimated_rows(source: Source) -> Select[int]:
    name = CONTENT_TABLES[source].name
    return select(cast(_pg_class.c.reltuples, BigInteger)).where(
        _pg_class.c.oid == cast(literal(name), REGCLASS)
    )


_RESOLVE = (
    select(
        tags.c.id,
        tags.c.tag_key,
        tags.c.name,
        tag_counts.c.source,
        tag_counts.c["items"],
        *(
            _estimated_rows(source).scalar_subquery().label(f"size_{int(source)}")
            for source in Source
        ),
    )
    .outerjoin(tag_counts, tag_counts.c.tag_key == tags.c.tag_key)
    .where((tags.c.id == any_uuid("tag_ids")) | (tags.c.name == any_text("tag_names")))
)


async def resolve_tags(
    conn: AsyncConnection,
    ids: Sequence[UUID],
    names: Sequence[str] = (),
    pairs: PairCounts | None = None,
) -> ResolvedTags:
    """Tags by UUID or exact name with their item counts per source (unknown ones are
    absent), and the estimated size of each source, in one statement; with the pair
    estimates given, or else read (a statement or two more)."""
    if not ids and not names:
        return ResolvedTags({}, TagStats())
    if pairs is None:
        pairs = await load_pair_counts(conn)
    found: dict[UUID, ResolvedTag] = {}
    source_items: dict[Source, int] = {}
    params = {"tag_ids": list(ids), "tag_names": list(names)}
    for row in await conn.execute(_RESOLVE, params):
        tag = found.setdefault(row.id, ResolvedTag(row.id, row.tag_key, row.name))
        if row.source is not None:
            tag.items[Source(row.source)] = int(row.items)
        for source in Source:
            estimate = row._mapping[f"size_{int(source)}"]
            if estimate is not None and estimate > 0:  # -1: never analyzed
                source_items[source] = int(estimate)
    stats = TagStats(
        {tag.tag_key: tag.items for tag in found.values()},
        source_items,
        {tag.tag_key: tag.id for tag in found.values()},
        pairs,
    )
    return ResolvedTags(found, stats)


class TagDirectory:
    """`resolve_tags` with its answers kept for `ttl` seconds, per process.

    A tag's id and key never change (tags are never deleted or re-keyed), and the counts
    only steer which SQL shape reads a page, never which rows it returns: answers a few
    seconds old cost at most a slower shape, and save a statement on most tagged pages.
    Unknown ids and names are never kept, so a tag created elsewhere is found at once;
    names are kept like ids (tags are never renamed). Tag writes are announced to every
    worker (gallery/tag_changes.py), which `forget`s the tags named; while a worker is not
    listening (`listening(False)`: notifications may be lost) answers are kept at most
    `UNLISTENED_TTL`. The pair estimates (refreshed by a maintenance command, not by
    writes) are read at the worker's start (`load_pairs`), then every `PAIRS_TTL`
    seconds off the requests' path (`keep_pairs`)."""

    MAX_TAGS = 100_000
    UNLISTENED_TTL = 2.0
    PAIRS_TTL = 600.0

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._configured_ttl = ttl
        self._clock = clock
        self._tags: dict[UUID, tuple[float, ResolvedTag]] = {}
        self._names: dict[str, UUID] = {}
        self._source_items: Mapping[Source, int] = {}
        self._pairs: PairCounts = NO_PAIRS

    async def load_pairs(self, reads: ReadSource, wait_seconds: float) -> None:
        """Read the pair estimates from `reads` (a worker's start, then `keep_pairs`);
        requests never read them: 65k pairs take ~90 ms to read and index.
        A database not answering within `wait_seconds` keeps the ones read before."""
        try:
            async with asyncio.timeout(wait_seconds):
                self._pairs = await run_read(reads, load_pair_counts)
        except (TimeoutError, OSError, DBAPIError):
            return

    async def keep_pairs(self, reads: ReadSource, wait_seconds: float) -> None:
        """Read the pair estimates again every `PAIRS_TTL` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.PAIRS_TTL)
            await self.load_pairs(reads, wait_seconds)

    def listening(self, listening: bool) -> None:
        """Whether tag writes reach this process: kept answers may live the configured TTL
        only while they do; (re)starting to listen drops everything kept before."""
        if listening:
            self.forget()
            self._ttl = self._configured_ttl
        else:
            self._ttl = min(self._configured_ttl, self.UNLISTENED_TTL)

    def forget(self, ids: Iterable[UUID] | None = None) -> None:
        """Drop the answers kept for `ids` (None: all of them). A name kept for a
        forgotten tag resolves afresh, since its tag is no longer kept."""
        if ids is None:
            self._tags.clear()
            self._names.clear()
            return
        for tag_id in ids:
            self._tags.pop(tag_id, None)

    async def resolve(
        self, conn: AsyncConnection, ids: Sequence[UUID], names: Sequence[str] = ()
    ) -> ResolvedTags:
        if not ids and not names:
            return ResolvedTags({}, TagStats())
        now = self._clock()
        pairs = self._pairs
        named = [self._names.get(name) for name in names]
        kept = [self._tags.get(tag_id) for tag_id in [*ids, *named] if tag_id is not None]
        fresh = all(entry is not None and now - entry[0] < self._ttl for entry in kept)
        if fresh and None not in named:
            found = {entry[1].id: entry[1] for entry in kept if entry is not None}
            counts = {tag.tag_key: tag.items for tag in found.values()}
            uuids = {tag.tag_key: tag.id for tag in found.values()}
            return ResolvedTags(found, TagStats(counts, self._source_items, uuids, pairs))
        resolved = await resolve_tags(conn, ids, names, pairs)
        if len(self._tags) > self.MAX_TAGS:
            self._tags.clear()
            self._names.clear()
        for tag in resolved.by_id.values():
            self._tags[tag.id] = (now, tag)
            self._names[tag.name] = tag.id
        self._source_items = resolved.stats.source_items
        return resolved
