"""The planner's rules: for each choice the decision tree in `plan` makes (a walk or the
bitmap, a cap on a walk and where, one matching set or the walks), the test that decides
it, with the thresholds it holds the estimates of `plan_costs` to.
"""

from __future__ import annotations

import math

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch, Whose
from gallery_gql.gallery.query.plan_costs import (
    GIN_US_PER_ENTRY,
    PROBE_US,
    WALK_STATEMENT_US,
    all_lists_us,
    bitmap_us,
    kept_counts,
    rarest,
    rated_rows_to_fill,
    rated_walk_rows,
    rows_to_fill,
)
from gallery_gql.gallery.query.shapes import FilterShape
from gallery_gql.gallery.query.tag_stats import TagStats

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


ALL_WALK_MIN_CAP = 100
"""An ALL walk's cap never goes below this many postings: a few tags on small lists."""


SPARSE_ALL_CAP_SHARE = 4
"""An ALL walk by date not expected to fill a page within its cap (`all_walk_fills`) is
capped at this fraction of it: the bitmap answers sooner where the tags seldom meet."""


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


def walks_items_for_any(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> bool:
    """Whether ANY of several tags walks the item table (see OVERLAP_WALK_MAX_ROWS)."""
    if flt.match is not TagMatch.ANY or len(flt.tag_keys) < 2:
        return False
    return rows_to_fill(flt, source, stats, limit) <= OVERLAP_WALK_MAX_ROWS


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
        lists = sum(all_lists_us(kept_counts(flt, source, stats)) for source in flt.sources)
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
