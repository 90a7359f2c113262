"""The read planner: one decision tree from a request to a page's SQL shape.

Per source, from the exact per-tag counts (`tag_stats`), it chooses how the page is read
(the vocabulary is in `shapes`): a walk of the item table's sort index (no tags; ANY of
common tags, testing each row's tag array; one creator's items, probing each), of one
tag's postings (one tag; ALL by its rarest tag, probing the others, capped where the
bitmap would cost less, and at a quarter of that where the walk is not expected to fill
the page within it), of each tag's postings merged (ANY of rarer tags), or by rating
(the junction holds no quality) a walk of the quality index for common tags and the
bitmap for rarer ones. Every shape returns the same rows for the same request: the model
tests force each one. `plan_walk` returns the shape, its parameter values and the name of
the strategy, derived from the shape; it keeps the plans it makes (`plan_memo`), so a request
planned before with the same counts costs a lookup.

Where the pair estimates (`pair_counts`) cover ALL's tags, they estimate how many items
carry them all (`matching_items`) in place of independence: by rating, the walk or the
bitmap, whichever is expected to cost less, the walk capped where it would cost what the
bitmap does; by date, the bitmap at once when the walk is not expected to fill the page
within its cap (`all_reads_bitmap`).

Before any of these, a filter whose matching items are few (a rare tag, ALL of tags one
of which is rare, ANY of a few rare tags) is read as one *matching set*: every matching
item of every source through the bitmap, with its columns, the page and its edge probe
taken from that set (`matching_sql`); the counts say when it costs less than the walks
(`MATCHING_SET_MAX_US`, `TAG_WALKS_SET_SHARE`; for ALL by date whose walks are not capped,
the bitmap's skips into long lists against the walks' probes, `all_walks_us`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from itertools import combinations
from typing import Any

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch, Whose
from gallery_gql.gallery.query.plan_memo import PlanMemo
from gallery_gql.gallery.query.shapes import (
    BranchKind,
    BranchShape,
    FilterParam,
    FilterShape,
    TagTest,
    Walk,
    WalkParam,
    WalkPlan,
    WalkShape,
    param,
)
from gallery_gql.gallery.query.tag_stats import TagStats

# -- the rules ------------------------------------------------------------------------------

OVERLAP_WALK_MAX_ROWS = 2_000
"""ANY of several tags walks the item table's sort index and tests each row's tag array
when a page is expected within this many rows; otherwise it merges one junction walk per
tag (one LATERAL branch per source, `page_sql._each_tag_postings_branch`). Common tags
fill a page from the first rows of a single walk."""

RATED_ALL_WALK_CAP = 2_000
"""ALL of several tags by rating walks at least this many item rows before the bitmap of
`sql._rated_walk_branch` answers (`rated_all_walk_cap`)."""

RATED_WALK_MAX_ROWS = 5_000
"""By rating (the junction has no quality column), a page walks the item table's quality
index testing the tags when it is expected within this many rows (~2.2 us a row at full
scale), and never walks further; otherwise, or when the walk falls short, every matching
item is read through the tag-array GIN index and sorted (~1.7 us an item). At this
bound both cost ~10 ms (docs/decisions.md)."""


RATED_US_PER_ROW = 2.2
"""What the walk of the item table's quality index costs per row read, testing its tag
array (the capped walk of ALL; long-tail profile at full scale: 2,000 rows in 4-5 ms)."""

GIN_US_PER_ENTRY = 0.025
"""What `tags @> ARRAY[...]` costs through the tag-array GIN index, in microseconds per
entry of the tags' lists (long-tail profile at full scale, 5 tags of ~57k items: 5.9 ms;
4 of ~115k: 10 ms; 4 of ~270k: 33 ms, docs/decisions.md)."""

PROBE_US = 1.0
"""What an ALL walk by date costs per posting read and per other tag probed for it, in
microseconds (2.4 us a posting with 2 other tags, 5 with 4)."""

ALL_WALK_MIN_CAP = 100
"""An ALL walk's cap never goes below this many postings: a few tags on small lists."""

SPARSE_ALL_CAP_SHARE = 4
"""An ALL walk by date not expected to fill a page within its cap (`all_walk_fills`) is
capped at this fraction of it: the bitmap answers sooner where the tags seldom meet."""

GIN_SKIP_US = 1.0
"""What `tags @> ARRAY[...]` costs per item of the rarest tag for each other tag whose list
is longer: the GIN scan skips through the longer lists to the rarest tag's items (its
"fast scan") instead of reading them whole. At least; see `GIN_LEAF_US`."""

GIN_LEAF_ENTRIES = 4_000
"""About how many entries a leaf page of a tag's posting tree in the tag-array GIN index
holds (the long tail's most popular tag: 1.1M entries, whose skips cost as much as
~275 leaves' descents once the rarest tag has ~2,000 items, docs/decisions.md)."""

GIN_LEAF_US = 16.0
"""What a skip costs that lands on a leaf page of a long list not landed on before: the
descent from the tree's root and the page's entries decoded from the skip's segment on.
Long-tail profile at full scale, `tags @> ARRAY[rare, X]` with a rare tag of 19 items,
against the rare tag alone (2026-12-05, prepared on the driver, p50): X of 1.1M items
+16 us a rarest item, 300k +19, 100k +8, 30k +5.6, 10k +2.3, 3k +0.3."""

WALK_STATEMENT_US = 50.0
"""What the walks' statement costs beyond the matching set's, at equal rows (a branch
per source, their merge, the items joined back): 1 tag of 20 items, set 349 us p50 and
walk 399 in process (`scripts/set_or_walks.py`, long-tail profile, 2026-12-05)."""

BITMAP_US_PER_ITEM = 1.7
"""What the bitmap costs per matching item: its heap row read, tested and sorted."""

MATCHING_SET_MAX_US = 1_500.0
"""A filter is read as one matching set (see the module's docstring) when the bitmap is
expected to cost at most this: about what planning and running the walks' statement
costs on the smallest page (0.6-1.2 ms on the long-tail profile at full scale, where
the matching set answered in 0.2-0.4 ms, docs/decisions.md)."""

TAG_WALKS_SET_SHARE = 3.0
"""By date, one tag or ANY of tags (no exclusion, no search) is read as one set only when
its bitmap is expected to cost at most this share of `MATCHING_SET_MAX_US`: its walks of
each tag's postings are planned once per session (`sql.walks_plan`) and read at most a
page a tag whatever the counts, where the set reads every matching item (long-tail
profile, `fetch_page` in process, 2026-12-05: ANY 3 of 836 items, bitmap expected at
1,442 us, set 1,229 us p50 and walks 672; 1 tag of 20 items, set 349, walk 399)."""


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


PAIRED_TAGS = 6
"""Only the pairs among a filter's rarest tags are looked up: they bound what ALL can
match, and ALL of 20 tags would look up 190 pairs a source: 48 us a call, against 8 us
for the 15 pairs of six (timeit, 2026-12-04)."""


def matching_items(flt: ContentFilter, source: Source, stats: TagStats) -> float | None:
    """How many items of `source` carry ALL of the filter's (two or more) tags, from the
    pair estimates: each tag's share of the items, times each pair's lift (how much more
    often than independent tags the pair meets; the pair's own estimate for two tags).
    None unless every pair is covered.

    On the long tail the pairs of common tags meet about as often as independent tags
    (ranks 50-51: ~12.7k items where independence gives ~11.4k; the pair estimate, not
    the tags' counts, is what moves the rated walk); pairs lift ALL of more tags, which
    items with many tags carry together (ALL 5 of ranks 30-34: 264 items, independence
    117, the pairs' lifts ~300). Pairs among the `PAIRED_TAGS` rarest tags only; the
    others count as independent."""
    size = stats.source_items.get(source)
    if flt.match is not TagMatch.ALL or len(flt.tag_keys) < 2 or not size:
        return None
    shares = {key: stats.items(key, source) / size for key in flt.tag_keys}
    keys = sorted(shares, key=shares.__getitem__)[:PAIRED_TAGS]
    covered = stats.pairs.covered.get(source)
    if not covered or any(key not in covered for key in keys):
        return None
    together = stats.pairs.together
    estimate = size * math.prod(shares.values())
    least = math.inf
    for a, b in combinations(sorted(keys), 2):
        both = together.get((source, a, b), 0)
        least = min(least, both)
        independent = shares[a] * shares[b]
        estimate = estimate * (both / size) / independent if independent > 0 else 0.0
    return min(estimate, least)


def all_bitmap_us(flt: ContentFilter, source: Source, stats: TagStats, matching: float) -> float:
    """What ALL's bitmap is expected to cost with `matching` items: the lists as in
    `bitmap_us`, each matching item's row read and sorted."""
    counts = [stats.items(key, source) for key in flt.tag_keys]
    return _all_lists_us(counts) + matching * BITMAP_US_PER_ITEM


def rated_walk_rows(
    flt: ContentFilter, source: Source, stats: TagStats, limit: int
) -> tuple[float, float] | None:
    """For ALL by rating with the pairs known: the item rows a walk of the quality index
    is expected to read to fill `limit`, and the rows that cost what the bitmap would."""
    matching = matching_items(flt, source, stats)
    size = stats.source_items.get(source)
    if matching is None or not size:
        return None
    rows = limit * size / matching if matching > 0 else math.inf
    return rows, all_bitmap_us(flt, source, stats, matching) / RATED_US_PER_ROW


def walks_items_for_rating(
    flt: ContentFilter, sort: Sort, source: Source, stats: TagStats, limit: int
) -> bool:
    """Whether a page by rating walks the item table's quality index testing the tags
    (expected to fill within `RATED_WALK_MAX_ROWS`; ALL with the pairs known: expected
    to cost less than the bitmap); otherwise the matching items are found through the
    tag-array GIN index and sorted (`page_sql._bitmap_branch`)."""
    if not flt.tag_keys or sort.column != "quality_score":
        return False
    if flt.match is TagMatch.ALL:
        expected = rated_walk_rows(flt, source, stats, limit)
        if expected is not None:
            rows, parity = expected
            return rows <= parity
    return rated_rows_to_fill(flt, source, stats, limit) <= RATED_WALK_MAX_ROWS


def rated_all_walk_cap(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> int:
    """How many item rows an ALL walk by rating reads before the bitmap answers. The tags
    taken as independent, a page is expected after `limit / Π share` rows: within half
    of `RATED_WALK_MAX_ROWS`, the walk goes to four times that, between
    `RATED_ALL_WALK_CAP` and `RATED_WALK_MAX_ROWS` (independence is only an estimate);
    further, or unknown, it is insurance against the tags' going together and reads
    `RATED_ALL_WALK_CAP`.

    The fixed 2,000 rows fell short of the long tail's pair of ranks 50-51 (expected at
    ~2,250 rows; 38 ms p95, the bitmap then sorting ~11k items); at ~4,500 it filled
    (9.8 ms in one sweep, 32-34 ms in two later ones on a busier machine); 5,000 for
    pairs expected at ~4,400 rows (ranks 70-71) walked all of it and then the bitmap: no
    gain (25-26 ms either way). With the pairs known the expectation is the pair's
    (`rated_walk_rows`): the cap is twice the rows expected, at least
    `RATED_ALL_WALK_CAP`, never past the rows that cost what the bitmap does."""
    expected = rated_walk_rows(flt, source, stats, limit)
    if expected is not None:
        rows, parity = expected
        return int(min(parity, max(RATED_ALL_WALK_CAP, 2 * rows)))
    size = stats.source_items.get(source)
    if not size:
        return RATED_ALL_WALK_CAP
    share = math.prod(stats.items(key, source) / size for key in flt.tag_keys)
    if share <= 0 or 2 * limit / share > RATED_WALK_MAX_ROWS:
        return RATED_ALL_WALK_CAP
    return int(min(RATED_WALK_MAX_ROWS, max(RATED_ALL_WALK_CAP, 4 * limit / share)))


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


def bitmap_us(flt: ContentFilter, source: Source, stats: TagStats) -> float:
    """What the bitmap is expected to cost in `source` (`GIN_US_PER_ENTRY`, `GIN_SKIP_US`,
    `BITMAP_US_PER_ITEM`), from the exact counts: ANY reads every tag's list and at most
    all their items; ALL reads the rarest tag's list, each other list or a skip per
    rarest item, whichever is less (`all_list_us`), and at most the rarest tag's items."""
    counts = _kept_counts(flt, source, stats)
    if flt.match is TagMatch.ALL:
        return _all_lists_us(counts) + min(counts, default=0) * BITMAP_US_PER_ITEM
    return sum(counts) * (GIN_US_PER_ENTRY + BITMAP_US_PER_ITEM)


def _kept_counts(flt: ContentFilter, source: Source, stats: TagStats) -> list[int]:
    """The counts of the filter's tags the bitmap searches for (not excluded ones)."""
    return [stats.items(key, source) for key in flt.tag_keys if key not in flt.exclude_tag_keys]


def _all_lists_us(counts: list[int]) -> float:
    """ALL's reading of the tags' lists in the bitmap: the rarest tag's list, and each
    other list or a skip per rarest item, whichever is less (`all_list_us`)."""
    rare = min(counts, default=0)
    return sum(all_list_us(count, rare) for count in counts)


def all_list_us(count: int, rare: int) -> float:
    """What ALL's bitmap costs to read one tag's list of `count` entries when the rarest
    tag has `rare` items: the list whole (`GIN_US_PER_ENTRY`), or a skip per rarest item,
    whichever costs less. A skip costs at least `GIN_SKIP_US`, and each leaf page of the
    list it lands on `GIN_LEAF_US`: `rare` skips land on at most `rare` leaves and at most
    on every leaf. So skips into a popular tag's ~275 leaves cost ~16 us each (ALL of a
    tag of 19 items and one of 1.1M: ~300 us, where the old flat 1 us a skip said 19),
    and skips into a short list little more than reading it."""
    leaves = min(float(rare), count / GIN_LEAF_ENTRIES)
    skipping = max(rare * GIN_SKIP_US, leaves * GIN_LEAF_US)
    return min(count * GIN_US_PER_ENTRY, skipping)


def all_walks_us(flt: ContentFilter, stats: TagStats) -> float | None:
    """What ALL's walks by date are expected to cost beyond the rows they return, where
    no source's walk is capped (`all_walk_cap`): each source's rarest tag's postings read
    whole at most, each probed for the other tags (`PROBE_US`), and the walks' statement
    (`WALK_STATEMENT_US`). None for fewer than two tags, or where a walk is capped: it
    reads the bitmap itself when it does not fill."""
    if flt.match is not TagMatch.ALL or len(flt.tag_keys) < 2:
        return None
    if any(all_walk_cap(flt, source, stats) is not None for source in flt.sources):
        return None
    others = len(flt.tag_keys) - 1
    postings = sum(stats.items(rarest(flt.tag_keys, s, stats), s) for s in flt.sources)
    return WALK_STATEMENT_US + postings * others * PROBE_US


def reads_matching_set(flt: ContentFilter, stats: TagStats, shape: FilterShape, sort: Sort) -> bool:
    """Whether the page is read as one matching set (`MATCHING_SET_MAX_US`,
    `TAG_WALKS_SET_SHARE`): tags whose UUIDs are known (the GIN index is searched by
    them), no creator (a creator's items are walked, `walks_creator_items`), and a cheap
    bitmap over every source."""
    if not shape.tag_ids or any(walks_creator_items(flt, source) for source in flt.sources):
        return False
    cost = sum(bitmap_us(flt, source, stats) for source in flt.sources)
    by_date = sort.column == "created_at" and not (shape.exclude_tags or shape.search)
    tag_walks = flt.match is TagMatch.ANY or len(flt.tag_keys) == 1
    if tag_walks and by_date:
        return cost <= MATCHING_SET_MAX_US / TAG_WALKS_SET_SHARE
    walks = all_walks_us(flt, stats) if by_date else None
    if walks is not None:
        # The rows are read either way; what differs is how their tags are tested: the
        # bitmap's lists (skips into long ones) against the walks' probes.
        lists = sum(_all_lists_us(_kept_counts(flt, source, stats)) for source in flt.sources)
        if lists > walks:
            return False
    return cost <= MATCHING_SET_MAX_US


def all_walk_fills(
    flt: ContentFilter,
    source: Source,
    stats: TagStats,
    limit: int,
    cap: int,
    matching: float | None = None,
) -> bool:
    """Whether an ALL walk by date may fill `limit` rows within `cap` postings of its
    rarest tag: the tags taken as independent, a page is expected within
    `SPARSE_ALL_CAP_SHARE` times the cap. When not, the walk is capped at that fraction
    of `cap`, so the bitmap answers sooner. (Shortened whenever the expectation passed
    the cap itself, ALL 5 of the long tail's ranks 20-24, expected at 1.2 times the
    cap, filled within it before and paid the bitmap after: 28 -> 46 ms p95.)

    Independence errs both ways (see `all_walk_cap`): tags that go together fill from the
    first postings (the genonaut profile's ALL 20, 19 tags on 75% of the items: ~6k
    postings expected, under its ~20k cap); tags that meet more often than expected but
    not often enough to fill within the smaller cap pay the bitmap, whose matching items
    are then many. Going to the bitmap at once (no walk) would leave that unbounded (all
    of the rarest tag's items sorted when the tags go together); the short walk keeps a
    page of strongly related tags at a few hundred postings. Without the source's size
    there is no estimate: the full cap."""
    driver = rarest(flt.tag_keys, source, stats)
    if matching is not None:  # `matching_items`, when the pairs are known
        return limit * stats.items(driver, source) <= matching * cap * SPARSE_ALL_CAP_SHARE
    size = stats.source_items.get(source)
    if not size:
        return True
    share = 1.0
    for key in flt.tag_keys:
        if key != driver:
            share *= stats.items(key, source) / size
    return share > 0 and limit / share <= cap * SPARSE_ALL_CAP_SHARE


def all_reads_bitmap(
    flt: ContentFilter,
    source: Source,
    stats: TagStats,
    limit: int,
    cap: int | None,
    matching: float | None,
) -> bool:
    """Whether ALL by date reads the bitmap at once, without the capped walk: the pair
    estimates (`matching_items`) expect the page past the walk's cap, so the walk would
    only add its cost to the bitmap's (ALL 4 of the long tail's ranks 50-53, 165 items
    of the rarest tag's 106k: the walk of 2,700 postings, then the bitmap). Unknown
    pairs, or a walk that is not capped: never."""
    if cap is None or matching is None:  # `matching_items`: None without the pairs
        return False
    return matching * cap < limit * stats.items(rarest(flt.tag_keys, source, stats), source)


def _met(driver: int, key: int, source: Source, stats: TagStats) -> float:
    """Of the driver's items, the share estimated to carry `key`: by the pair estimate
    where known, else as independent tags."""
    driven = stats.items(driver, source)
    both = stats.together(driver, key, source)
    if both is not None:
        return both / driven if driven else 1.0
    size = stats.source_items.get(source)
    return stats.items(key, source) / size if size else 1.0


def probed_first(driver: int, others: list[int], source: Source, stats: TagStats) -> int:
    """The tag a capped ALL walk would probe first (`conditions.probed_first`): the one
    least likely on the driver's items."""
    return min(others, key=lambda key: (_met(driver, key, source, stats), key))


def probes_first(
    driver: int, others: list[int], first: int, source: Source, stats: TagStats
) -> bool:
    """Whether the capped ALL walk probes `first` alone before the others: one index
    descent a posting, then one a remaining tag for the share found, against one a tag
    for every posting; the second subplan costs about a descent. Tags that seldom meet
    gain (ALL 5 of the long tail's ranks 20-24, 6,000 postings: 28 -> 13 ms); tags that go
    together (the genonaut profile's, on 75% of the items) keep the one probe."""
    return 2 + _met(driver, first, source, stats) * (len(others) - 1) < len(others)


def walks_creator_items(flt: ContentFilter, source: Source) -> bool:
    """Whether a tag filter on one creator's items (a `creator` filter, or a source whose
    collections keep only the viewer's) walks that creator's items (its
    `(creator_id, sort)` index) probing each for the tags, instead of a tag's postings.

    A tag walk filtered by creator reads postings until the creator's items fill the page;
    the planner, seeing a selective creator, joins all the tag's postings instead (ME + tag
    67 ms at full scale). With the primary key it drove from the creator's items, probing
    each by (source, item, tag); the probe now needs the item's created_at, which only the
    item side has. Cost: the creator's items up to the page, all of them for a tag the
    creator seldom uses (no per-creator counts to choose by)."""
    one_creator = flt.creator_id is not None or flt.whose(source) is Whose.VIEWER
    return one_creator and bool(flt.tag_keys)


# -- the plan -------------------------------------------------------------------------------


def filter_shape(flt: ContentFilter, stats: TagStats) -> FilterShape:
    return FilterShape(
        viewer=flt.viewer_id is not None,
        creator=flt.creator_id is not None,
        exclude_creator=flt.exclude_creator_id is not None,
        search=flt.search is not None,
        exclude_tags=bool(flt.exclude_tag_keys),
        tag_ids=bool(flt.tag_keys) and all(key in stats.ids for key in flt.tag_keys),
        exclude_ids=bool(flt.exclude_tag_keys)
        and all(key in stats.ids for key in flt.exclude_tag_keys),
    )


def filter_params(flt: ContentFilter, stats: TagStats, shape: FilterShape) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if flt.viewer_id is not None:
        params[FilterParam.VIEWER_ID] = flt.viewer_id
    if flt.creator_id is not None:
        params[FilterParam.CREATOR_ID] = flt.creator_id
    if flt.exclude_creator_id is not None:
        params[FilterParam.EXCLUDE_CREATOR_ID] = flt.exclude_creator_id
    if flt.search is not None:
        params[FilterParam.SEARCH] = flt.search
    if flt.exclude_tag_keys:
        params[FilterParam.EXCLUDE_TAGS] = list(flt.exclude_tag_keys)
    if flt.tag_keys:
        params[FilterParam.TAG_KEYS] = list(flt.tag_keys)
        params[FilterParam.TAG_COUNT] = len(flt.tag_keys)
        if shape.tag_ids:
            params[FilterParam.TAG_IDS] = [stats.ids[key] for key in flt.tag_keys]
    if shape.exclude_ids:
        params[FilterParam.EXCLUDE_IDS] = [stats.ids[key] for key in flt.exclude_tag_keys]
    return params


def _item_test(flt: ContentFilter, source: Source) -> TagTest:
    """The tag test of a walk over item rows in sort order."""
    if not flt.tag_keys:
        return TagTest.NONE
    one_tag_of_one_creator = walks_creator_items(flt, source) and len(flt.tag_keys) == 1
    if flt.match is TagMatch.ALL or one_tag_of_one_creator:
        return TagTest.ALL_PROBES
    return TagTest.ANY


def plan_walk_fresh(flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> WalkPlan:
    """The per-source (and, for ANY, per-tag) walks whose merge is the page, with the
    values of their parameters, decided afresh (`plan_walk` keeps what it decides)."""
    shape_of_filter = filter_shape(flt, stats)
    params = filter_params(flt, stats, shape_of_filter)
    params[param(name, WalkParam.LIMIT)] = walk.limit
    if walk.bound is not None:
        params[param(name, WalkParam.BOUND_VALUE)] = walk.bound.value
        params[param(name, WalkParam.BOUND_ID)] = walk.bound.id
    matching_set = reads_matching_set(flt, stats, shape_of_filter, walk.sort)
    if matching_set:
        test = _set_test(flt)
        branches = [
            BranchShape(source, BranchKind.BITMAP, test, whose=flt.whose(source) or Whose.ANYONE)
            for source in flt.sources
        ]
    else:
        branches = _walk_branches(flt, walk, stats, shape_of_filter, params, name)
    shape = WalkShape(
        name=name,
        sort=walk.sort,
        descending=walk.descending,
        bound_source=walk.bound.source if walk.bound is not None else None,
        include_bound=walk.include_bound,
        filter=shape_of_filter,
        branches=tuple(branches),
        matching_set=matching_set,
        limit=walk.limit,
    )
    return WalkPlan(shape, params, strategy_of(shape))


plan_walk = PlanMemo(plan_walk_fresh)
"""`plan_walk_fresh`, answered from the last plans made when the request, the counts it
reads and the pair estimates are the same (`plan_memo`): 3-8 us a walk against 13-29 us
afresh on the long tail's classes (docs/benchmarks.md)."""


def _walk_branches(
    flt: ContentFilter,
    walk: Walk,
    stats: TagStats,
    shape_of_filter: FilterShape,
    params: dict[str, Any],
    name: str,
) -> list[BranchShape]:
    branches: list[BranchShape] = []
    for source in flt.sources:
        index = len(branches)

        def value(key: WalkParam, given: Any, index: int = index) -> None:
            params[param(name, key, index)] = given

        branch = _branch(flt, source, walk, stats, shape_of_filter, value)
        if branch is not None:
            branches.append(replace(branch, whose=flt.whose(source) or Whose.ANYONE))
    return branches


def _set_test(flt: ContentFilter) -> TagTest:
    return TagTest.ALL_ARRAY if flt.match is TagMatch.ALL else TagTest.ANY


def _branch(
    flt: ContentFilter,
    source: Source,
    walk: Walk,
    stats: TagStats,
    shape_of_filter: FilterShape,
    value: Callable[[WalkParam, Any], None],
) -> BranchShape | None:
    """The one decision tree: how `source`'s rows of the page are read (`value` records
    the branch's parameters); None when the source has nothing to walk."""
    if (
        not flt.tag_keys
        or walks_creator_items(flt, source)
        or walks_items_for_any(flt, source, stats, walk.limit)
    ):
        return BranchShape(source, BranchKind.ITEMS, _item_test(flt, source))
    if walks_items_for_rating(flt, walk.sort, source, stats, walk.limit):
        if flt.match is not TagMatch.ALL:
            return BranchShape(source, BranchKind.ITEMS, _item_test(flt, source))
        value(WalkParam.CAP, rated_all_walk_cap(flt, source, stats, walk.limit))
        test = TagTest.ALL_ARRAY if shape_of_filter.tag_ids else TagTest.ALL_PROBES
        return BranchShape(source, BranchKind.RATED_WALK, test)
    if walk.sort.column == "quality_score":
        test = TagTest.ALL_ARRAY if flt.match is TagMatch.ALL else TagTest.ANY
        return BranchShape(source, BranchKind.BITMAP, test)
    if flt.match is TagMatch.ALL:
        cap = all_walk_cap(flt, source, stats)
        matching = matching_items(flt, source, stats)
        # The edge probe starts at the cursor's own item: its walk finds it at once, where
        # the bitmap would read every list a second time (deep pages cost twice page 1).
        skips = all_reads_bitmap(flt, source, stats, walk.limit, cap, matching)
        if not walk.include_bound and skips:
            return BranchShape(source, BranchKind.BITMAP, TagTest.ALL_ARRAY)
        fills = all_walk_fills(flt, source, stats, walk.limit, cap, matching) if cap else True
        if cap is not None and not fills:
            cap = max(ALL_WALK_MIN_CAP, cap // SPARSE_ALL_CAP_SHARE)
        driver = rarest(flt.tag_keys, source, stats)
        others = [key for key in flt.tag_keys if key != driver]
        value(WalkParam.DRIVER, driver)
        if cap is None:
            value(WalkParam.OTHERS, others)
            value(WalkParam.OTHERS_COUNT, len(others))
            return BranchShape(source, BranchKind.POSTINGS, probes_others=True)
        # With fewer than 3 others one probe for all costs no more (`probes_first`).
        first = probed_first(driver, others, source, stats) if len(others) > 2 else driver
        split = len(others) > 2 and probes_first(driver, others, first, source, stats)
        if split:
            value(WalkParam.FIRST, first)
            others = [key for key in others if key != first]
        value(WalkParam.OTHERS, others)
        value(WalkParam.OTHERS_COUNT, len(others))
        value(WalkParam.CAP, cap)
        kind = BranchKind.CAPPED_POSTINGS
        return BranchShape(source, kind, TagTest.ALL_ARRAY, True, probes_first=split)
    # An excluded tag can never select an item: walking it would only filter.
    walked = [key for key in flt.tag_keys if key not in flt.exclude_tag_keys]
    if len(walked) == 1:
        value(WalkParam.DRIVER, walked[0])
        return BranchShape(source, BranchKind.POSTINGS)
    if walked:
        value(WalkParam.KEYS, walked)
        return BranchShape(source, BranchKind.EACH_TAG_POSTINGS)
    return None


def branch_label(shape: WalkShape, branch: BranchShape) -> str:
    """The name of one source's branch (metrics, the bench's strategy column)."""
    if shape.matching_set:
        return "tag-array-set"
    if branch.kind is BranchKind.ITEMS:
        if branch.tags is TagTest.NONE:
            return "sort-index-walk"
        if shape.filter.creator or branch.whose is Whose.VIEWER:
            return "creator-walk"
        return "item-walk-rated" if shape.sort.column == "quality_score" else "item-walk-overlap"
    if branch.kind is BranchKind.POSTINGS:
        return "rarest-tag-walk" if branch.probes_others else "tag-walk"
    labels = {
        BranchKind.EACH_TAG_POSTINGS: "tag-walk-merge",
        BranchKind.CAPPED_POSTINGS: "rarest-tag-walk-capped",
        BranchKind.RATED_WALK: "item-walk-rated-capped",
        BranchKind.BITMAP: "tag-array-bitmap",
    }
    return labels[branch.kind]


@lru_cache(maxsize=1_024)
def strategy_of(shape: WalkShape) -> str:
    """The plan's strategy name: its branches' labels, one per distinct label (kept per
    shape: planning a page is on every request's path)."""
    labels = sorted({branch_label(shape, branch) for branch in shape.branches})
    return "+".join(labels) or "nothing"
