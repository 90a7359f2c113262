"""What a page's reads are expected to cost, from the exact per-tag counts and the pair
estimates (`tag_stats`): the item rows a walk reads before it fills a page, how many items
carry ALL of a filter's tags, and the microseconds the tag-array GIN bitmap takes. The unit
costs were measured on the long-tail profile at full scale (docs/decisions.md); the
planner's rules (`plan_rules`) weigh them against each other.
"""

from __future__ import annotations

import math
from itertools import combinations

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, TagMatch
from gallery_gql.gallery.query.tag_stats import TagStats

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
    return all_lists_us(counts) + matching * BITMAP_US_PER_ITEM


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


def bitmap_us(flt: ContentFilter, source: Source, stats: TagStats) -> float:
    """What the bitmap is expected to cost in `source` (`GIN_US_PER_ENTRY`, `GIN_SKIP_US`,
    `BITMAP_US_PER_ITEM`), from the exact counts: ANY reads every tag's list and at most
    all their items; ALL reads the rarest tag's list, each other list or a skip per
    rarest item, whichever is less (`all_list_us`), and at most the rarest tag's items."""
    counts = kept_counts(flt, source, stats)
    if flt.match is TagMatch.ALL:
        return all_lists_us(counts) + min(counts, default=0) * BITMAP_US_PER_ITEM
    return sum(counts) * (GIN_US_PER_ENTRY + BITMAP_US_PER_ITEM)


def kept_counts(flt: ContentFilter, source: Source, stats: TagStats) -> list[int]:
    """The counts of the filter's tags the bitmap searches for (not excluded ones)."""
    return [stats.items(key, source) for key in flt.tag_keys if key not in flt.exclude_tag_keys]


def all_lists_us(counts: list[int]) -> float:
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
