"""The rules that choose how a page is read, per source, from the exact tag counts: a walk
of the item table's sort index, of one tag's postings (junction index), of one creator's
items, or by rating (the junction holds no quality) a walk of the quality index; and
where a walk may read far for few rows (ALL of tags that rarely meet, rare tags by
rating), the matching items found through the tag-array GIN index and sorted.

`page_plan` applies them to a request; `page_sql` holds the SQL of each shape. Every
shape returns the same rows for the same request (the model tests force each one).
"""

from __future__ import annotations

import math

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch
from gallery_gql.gallery.query.tag_stats import TagStats

OVERLAP_WALK_MAX_ROWS = 2_000
"""ANY of several tags walks the item table's sort index and tests each row's tag array
when a page is expected within this many rows; otherwise it merges one junction walk per
tag (one LATERAL branch per source, `page_sql._each_tag_postings_branch`). Common tags
fill a page from the first rows of a single walk."""

RATED_ALL_WALK_CAP = 2_000
"""ALL of several tags by rating walks at most this many item rows (then the bitmap of
`page_sql._rated_walk_branch` answers)."""

RATED_WALK_MAX_ROWS = 5_000
"""By rating (the junction has no quality column), a page walks the item table's quality
index testing the tags when it is expected within this many rows (~2.2 us a row at full
scale), and never walks further; otherwise, or when the walk falls short, every matching
item is read through the tag-array GIN index and sorted (~1.7 us an item). At this
bound both cost ~10 ms (docs/decisions.md)."""


GIN_US_PER_ENTRY = 0.025
"""What `tags @> ARRAY[...]` costs through the tag-array GIN index, in microseconds per
entry of the tags' lists (long-tail profile at full scale, 5 tags of ~57k items: 5.9 ms;
4 of ~115k: 10 ms; 4 of ~270k: 33 ms, docs/decisions.md)."""

PROBE_US = 1.0
"""What an ALL walk by date costs per posting read and per other tag probed for it, in
microseconds (2.4 us a posting with 2 other tags, 5 with 4)."""

ALL_WALK_MIN_CAP = 100
"""An ALL walk's cap never goes below this many postings: a few tags on small lists."""


def rarest(tag_keys: tuple[int, ...], source: Source, stats: TagStats) -> int:
    return min(tag_keys, key=lambda key: (stats.items(key, source), key))


def rows_to_fill(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> float:
    """Upper estimate of the item rows a walk reads to find `limit` carrying ANY of the
    tags: the most common tag alone bounds the share of matching items from below."""
    size = stats.source_items.get(source)
    common = max((stats.items(key, source) for key in flt.tag_keys), default=0)
    if not size or not common:
        return math.inf
    return limit * size / common


def walks_items_for_any(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> bool:
    """Whether ANY of several tags walks the item table (see OVERLAP_WALK_MAX_ROWS)."""
    if flt.match is not TagMatch.ANY or len(flt.tag_keys) < 2:
        return False
    return rows_to_fill(flt, source, stats, limit) <= OVERLAP_WALK_MAX_ROWS


def rated_rows_to_fill(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> float:
    """Upper estimate of the item rows a walk of the quality index reads to find `limit`
    carrying the tags: ANY as `rows_to_fill`; one tag or ALL by its rarest tag (tags
    assumed independent of the score, and for ALL of each other)."""
    if flt.match is TagMatch.ANY:
        return rows_to_fill(flt, source, stats, limit)
    size = stats.source_items.get(source)
    rare = min((stats.items(key, source) for key in flt.tag_keys), default=0)
    if not size or not rare:
        return math.inf
    return limit * size / rare


def walks_items_for_rating(
    flt: ContentFilter, sort: Sort, source: Source, stats: TagStats, limit: int
) -> bool:
    """Whether a page by rating walks the item table's quality index testing the tags
    (expected to fill within `RATED_WALK_MAX_ROWS`); otherwise the matching items are
    found through the tag-array GIN index and sorted (`page_sql._bitmap_branch`)."""
    if not flt.tag_keys or sort.column != "quality_score":
        return False
    return rated_rows_to_fill(flt, source, stats, limit) <= RATED_WALK_MAX_ROWS


def all_walk_cap(flt: ContentFilter, source: Source, stats: TagStats) -> int | None:
    """How many postings of its rarest tag an ALL walk by date reads before the GIN bitmap
    answers instead, or None when the walk is not capped (one tag, or a cap that is not
    below the rarest tag's postings). The cap is as many postings as cost what the bitmap
    would (`GIN_US_PER_ENTRY`, `PROBE_US`), so a page costs at most about twice the
    better of the two.

    The counts cannot say how often the tags meet: independence is far off for tags that
    go together (the genonaut profile's ALL 20 fills a page from a few hundred postings,
    where independence predicts 400k) and for tags that avoid each other. Uncapped, ALL of
    5 tags of ~57k items that rarely meet walked every posting: 293 ms."""
    if flt.match is not TagMatch.ALL or len(flt.tag_keys) < 2:
        return None
    entries = sum(stats.items(key, source) for key in flt.tag_keys)
    cap = max(ALL_WALK_MIN_CAP, int(entries * GIN_US_PER_ENTRY / (PROBE_US * len(flt.tag_keys))))
    if cap >= stats.items(rarest(flt.tag_keys, source, stats), source):
        return None
    return cap


def walks_creator_items(flt: ContentFilter) -> bool:
    """Whether a tag filter on one creator's items walks that creator's items (its
    `(creator_id, sort)` index) probing each for the tags, instead of a tag's postings.

    A tag walk filtered by creator reads postings until the creator's items fill the page;
    the planner, seeing a selective creator, joins all the tag's postings instead (ME + tag
    67 ms at full scale). With the primary key it drove from the creator's items, probing
    each by (source, item, tag); the probe now needs the item's created_at, which only the
    item side has. Cost: the creator's items up to the page, all of them for a tag the
    creator seldom uses (no per-creator counts to choose by)."""
    return flt.creator_id is not None and bool(flt.tag_keys)


def rated_strategy_name(flt: ContentFilter, stats: TagStats, limit: int, sort: Sort) -> str:
    """The label of a tag filter by rating: which of its two shapes each source takes."""
    names = {
        "item-walk-rated"
        if walks_items_for_any(flt, s, stats, limit)
        or walks_items_for_rating(flt, sort, s, stats, limit)
        else "tag-array-bitmap"
        for s in flt.sources
    }
    return "+".join(sorted(names))


def strategy_name(flt: ContentFilter, stats: TagStats, limit: int, sort: Sort = Sort.NEWEST) -> str:
    """A label for the SQL shape a filter gets (metrics and benchmarks)."""
    if not flt.tag_keys:
        return "sort-index-walk"
    if walks_creator_items(flt):
        return "creator-walk"
    if sort.column == "quality_score":
        return rated_strategy_name(flt, stats, limit, sort)
    if flt.match is TagMatch.ALL and len(flt.tag_keys) > 1:
        names = {
            "rarest-tag-walk" if all_walk_cap(flt, s, stats) is None else "rarest-tag-walk-capped"
            for s in flt.sources
        }
    else:
        names = {
            "item-walk-overlap" if walks_items_for_any(flt, s, stats, limit) else "tag-walk-merge"
            for s in flt.sources
        }
    return "+".join(sorted(names))
