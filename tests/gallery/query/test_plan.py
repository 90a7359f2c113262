"""The read planner's decisions, asserted on the plan it makes: each source's branch
kind, how it tests the tags, its parameters, and the strategy name derived from them."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import plan, plan_costs, plan_rules
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch
from gallery_gql.gallery.query.pair_counts import PairCounts
from gallery_gql.gallery.query.shapes import (
    BranchKind,
    BranchShape,
    TagTest,
    Walk,
    WalkParam,
    WalkPlan,
    param,
)
from gallery_gql.gallery.query.tag_stats import TagStats

AUTO = Source.AUTO


def _plan(flt: ContentFilter, stats: TagStats, sort: Sort = Sort.NEWEST) -> WalkPlan:
    return plan.plan_walk(flt, Walk(sort, sort.descending, None, 26), stats, "page")


def _kinds(made: WalkPlan) -> list[tuple[Source, BranchKind]]:
    return [(branch.source, branch.kind) for branch in made.shape.branches]


def test_no_tags_walk_the_sort_index_of_each_source() -> None:
    made = _plan(ContentFilter(), TagStats())
    assert _kinds(made) == [(Source.REGULAR, BranchKind.ITEMS), (AUTO, BranchKind.ITEMS)]
    assert all(branch.tags is TagTest.NONE for branch in made.shape.branches)
    assert made.strategy == "sort-index-walk"


def test_one_tag_walks_its_postings() -> None:
    flt = ContentFilter(tag_keys=(7,), sources=(AUTO,))
    made = _plan(flt, TagStats({7: {AUTO: 500}}, {AUTO: 1_000_000}))
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.POSTINGS),)
    assert made.params[param("page", WalkParam.DRIVER, 0)] == 7
    assert made.strategy == "tag-walk"


def test_all_walks_the_rarest_tag_probing_the_others_and_caps_where_the_bitmap_is_cheaper() -> None:
    sizes = {AUTO: 1_100_000}
    ids = {k: uuid4() for k in range(1, 6)}
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(AUTO,))
    five = ContentFilter(tag_keys=(1, 2, 3, 4, 5), match=TagMatch.ALL, sources=(AUTO,))
    one_rare = TagStats({1: {AUTO: 90}, 2: {AUTO: 900_000}}, sizes)
    made = _plan(both, one_rare)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.POSTINGS, probes_others=True),)
    assert made.params[param("page", WalkParam.DRIVER, 0)] == 1  # the rarest
    assert made.params[param("page", WalkParam.OTHERS, 0)] == [2]
    assert made.strategy == "rarest-tag-walk"
    # the bitmap reads 5 x 580k entries at 0.025 us (72 ms); a posting and its 4 probes
    # cost 5 us: the walk reads at most 14,500 postings, then the bitmap answers; tags on
    # half the items are expected to fill a page within 26 / 0.5^4 = 416 postings
    common = TagStats({k: {AUTO: 580_000} for k in range(1, 6)}, sizes)
    made = _plan(five, common)
    assert _kinds(made) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    assert made.params[param("page", WalkParam.CAP, 0)] == 14_500
    assert made.strategy == "rarest-tag-walk-capped"
    # tags on 5% of the items each: a page is expected after 26 / 0.05^4 = 4.6M postings,
    # far past the cap the bitmap's cost gives (1,450): a quarter of it
    long_tail = TagStats({k: {AUTO: 58_000} for k in range(1, 6)}, sizes, ids)
    made = _plan(five, long_tail)
    assert _kinds(made) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    assert made.params[param("page", WalkParam.CAP, 0)] == 1_450 // plan_rules.SPARSE_ALL_CAP_SHARE
    # tags on 24% of the items: expected after 26 / 0.236^4 = 8,400 postings, past the
    # cap (6,500) but within four times it: the full cap
    quarter = TagStats({k: {AUTO: 260_000} for k in range(1, 6)}, sizes)
    made = _plan(five, quarter)
    assert made.params[param("page", WalkParam.CAP, 0)] == 6_500
    assert 6_500 < 26 / (260_000 / 1_100_000) ** 4 < 4 * 6_500
    small = TagStats({k: {AUTO: 4_000} for k in range(1, 6)}, sizes)
    assert plan_rules.all_walk_cap(five, AUTO, small) == plan_rules.ALL_WALK_MIN_CAP


def test_any_walks_the_items_only_when_a_page_fills_quickly() -> None:
    flt = ContentFilter(tag_keys=(1, 2, 3), match=TagMatch.ANY, sources=(AUTO,))
    sizes = {AUTO: 1_000_000}
    common = TagStats({1: {AUTO: 600_000}, 2: {AUTO: 10}}, sizes)
    made = _plan(flt, common)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.ITEMS, TagTest.ANY),)
    assert made.strategy == "item-walk-overlap"
    rare = TagStats({1: {AUTO: 900}, 2: {AUTO: 10}}, sizes)
    made = _plan(flt, rare)
    assert _kinds(made) == [(AUTO, BranchKind.EACH_TAG_POSTINGS)]
    assert made.params[param("page", WalkParam.KEYS, 0)] == [1, 2, 3]
    assert made.strategy == "tag-walk-merge"
    # without the source's size the estimate is unbounded: the per-tag walks
    assert _kinds(_plan(flt, TagStats({1: {AUTO: 600_000}}))) == [
        (AUTO, BranchKind.EACH_TAG_POSTINGS)
    ]


def test_any_never_walks_an_excluded_tag() -> None:
    flt = ContentFilter(tag_keys=(1, 2), exclude_tag_keys=(2,), sources=(AUTO,))
    made = _plan(flt, TagStats({1: {AUTO: 10}, 2: {AUTO: 10}}, {AUTO: 1_000_000}))
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.POSTINGS),)
    assert made.params[param("page", WalkParam.DRIVER, 0)] == 1


def test_by_rating_common_tags_walk_the_quality_index_and_rare_ones_use_the_bitmap() -> None:
    sizes = {AUTO: 1_000_000}
    common = TagStats({1: {AUTO: 600_000}, 2: {AUTO: 300_000}}, sizes)
    rare = TagStats({1: {AUTO: 900}, 2: {AUTO: 600_000}}, sizes)
    one = ContentFilter(tag_keys=(1,), sources=(AUTO,))
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(AUTO,))
    made = _plan(one, common, Sort.TOP_RATED)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.ITEMS, TagTest.ANY),)
    assert made.strategy == "item-walk-rated"
    made = _plan(both, common, Sort.LOWEST_RATED)
    assert _kinds(made) == [(AUTO, BranchKind.RATED_WALK)]
    assert made.params[param("page", WalkParam.CAP, 0)] == plan_rules.RATED_ALL_WALK_CAP
    # a pair on 11% of the items each is expected to fill 26 rows after ~2,150: the walk
    # goes to four times that, at most RATED_WALK_MAX_ROWS, before the bitmap answers
    mid = TagStats({1: {AUTO: 110_000}, 2: {AUTO: 110_000}}, {AUTO: 1_000_000})
    assert plan_costs.rated_rows_to_fill(both, AUTO, mid, 26) <= plan_rules.RATED_WALK_MAX_ROWS
    cap = _plan(both, mid, Sort.TOP_RATED).params[param("page", WalkParam.CAP, 0)]
    assert cap == plan_rules.RATED_WALK_MAX_ROWS
    # expected at ~3,200 rows (9% each), past half the bound: the least cap
    later = TagStats({1: {AUTO: 90_000}, 2: {AUTO: 90_000}}, {AUTO: 1_000_000})
    assert plan_rules.rated_all_walk_cap(both, AUTO, later, 26) == plan_rules.RATED_ALL_WALK_CAP
    # tags expected to meet too seldom keep the least cap
    sparse = TagStats({1: {AUTO: 30_000}, 2: {AUTO: 30_000}}, {AUTO: 1_000_000})
    assert plan_rules.rated_all_walk_cap(both, AUTO, sparse, 26) == plan_rules.RATED_ALL_WALK_CAP
    assert made.strategy == "item-walk-rated-capped"
    # ALL goes by its rarest tag, however common the others
    made = _plan(both, rare, Sort.TOP_RATED)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.BITMAP, TagTest.ALL_ARRAY),)
    assert made.strategy == "tag-array-bitmap"
    # by date the junction walk stays
    assert _kinds(_plan(one, common)) == [(AUTO, BranchKind.POSTINGS)]


def test_one_creators_tagged_items_walk_that_creators_items() -> None:
    flt = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, creator_id=uuid4())
    made = _plan(flt, TagStats({1: {AUTO: 10}, 2: {AUTO: 10}}, {AUTO: 1_000_000}))
    assert [branch.kind for branch in made.shape.branches] == [BranchKind.ITEMS] * 2
    assert all(branch.tags is TagTest.ALL_PROBES for branch in made.shape.branches)
    assert made.strategy == "creator-walk"


def test_sources_label_their_own_branches() -> None:
    flt = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL)
    stats = TagStats(
        {1: {Source.REGULAR: 10, AUTO: 58_000}, 2: {Source.REGULAR: 9_000, AUTO: 58_000}},
        {Source.REGULAR: 60_000, AUTO: 1_100_000},
    )
    made = _plan(flt, stats)
    assert _kinds(made) == [
        (Source.REGULAR, BranchKind.POSTINGS),
        (AUTO, BranchKind.CAPPED_POSTINGS),
    ]
    assert made.strategy == "rarest-tag-walk+rarest-tag-walk-capped"


def test_few_matching_items_are_read_as_one_set_through_the_bitmap() -> None:
    """The long-tail profile's rare classes: the counts bound the bitmap's cost (one tag
    of 20 items: ~35 us; ALL of mid tags by their rarest: ~0.6 ms), under the set's
    bound; a common tag's bitmap is far over it, and ALL of a rare and a common tag
    skips through the common tag's list, a leaf page a rarest item."""
    sizes = {Source.REGULAR: 64_000, AUTO: 1_100_000}
    ids = {k: uuid4() for k in range(1, 30)}

    def stats(counts: dict[int, tuple[int, int]]) -> TagStats:
        tags = {k: {Source.REGULAR: r, AUTO: a} for k, (r, a) in counts.items()}
        return TagStats(tags, sizes, ids)

    rare = stats({1: (1, 19)})
    made = _plan(ContentFilter(tag_keys=(1,)), rare)
    assert made.shape.matching_set
    assert made.shape.branches == (
        BranchShape(Source.REGULAR, BranchKind.BITMAP, TagTest.ANY),
        BranchShape(AUTO, BranchKind.BITMAP, TagTest.ANY),
    )
    assert made.strategy == "tag-array-set"
    one = plan_costs.GIN_US_PER_ENTRY + plan_costs.BITMAP_US_PER_ITEM
    assert plan_costs.bitmap_us(ContentFilter(tag_keys=(1,)), AUTO, rare) == pytest.approx(19 * one)
    mid = stats(dict.fromkeys(range(1, 21), (30, 500)))
    every = ContentFilter(tag_keys=tuple(range(1, 21)), match=TagMatch.ALL)
    made = _plan(every, mid, Sort.TOP_RATED)
    assert made.shape.matching_set
    assert {branch.tags for branch in made.shape.branches} == {TagTest.ALL_ARRAY}
    assert not _plan(ContentFilter(tag_keys=tuple(range(1, 21))), mid).shape.matching_set
    popular = stats({1: (1, 19), 2: (64_000, 1_100_000)})
    assert not _plan(ContentFilter(tag_keys=(2,)), popular).shape.matching_set
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL)
    # the rarest list read whole, a skip per rarest item through the common list
    skipping = plan_costs.GIN_US_PER_ENTRY + plan_costs.GIN_LEAF_US + plan_costs.BITMAP_US_PER_ITEM
    assert plan_costs.bitmap_us(both, AUTO, popular) == pytest.approx(19 * skipping)
    assert _plan(both, popular, Sort.TOP_RATED).shape.matching_set
    # an excluded tag is tested on the matching items, never searched for
    excluding = ContentFilter(tag_keys=(1,), exclude_tag_keys=(2,))
    made = _plan(excluding, popular)
    assert made.shape.matching_set
    assert made.shape.filter.exclude_ids
    assert made.params["exclude_ids"] == [ids[2]]


def test_by_date_all_of_a_rare_and_a_popular_tag_walks_the_rare_tags_postings() -> None:
    """The long tail's "rare + popular ALL": a tag of 20 items and one on nearly every
    item. The set's bitmap skips into the popular tag's posting tree once a rare item
    (~16 us a leaf: ~320 us), where the walk reads the rare tag's 20 postings, probing
    each (~70 us with its statement): walked (set 623 us p50, walk 475). ALL 2, 5 and 20
    of the long tail's mid tags keep the set: their lists are short (read whole for
    ~10-30 us) and their walks capped, so reading the bitmap themselves."""
    sizes = {Source.REGULAR: 64_600, AUTO: 1_105_000}
    ids = {k: uuid4() for k in range(1, 30)}

    def stats(counts: dict[int, tuple[int, int]]) -> TagStats:
        tags = {k: {Source.REGULAR: r, AUTO: a} for k, (r, a) in counts.items()}
        return TagStats(tags, sizes, ids)

    rare_popular = stats({1: (1, 19), 2: (64_400, 1_101_658)})
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL)
    made = _plan(both, rare_popular)
    assert not made.shape.matching_set
    assert made.strategy == "rarest-tag-walk"
    assert all(branch.kind is BranchKind.POSTINGS for branch in made.shape.branches)
    assert made.params[param("page", WalkParam.DRIVER, 1)] == 1
    walks = plan_rules.all_walks_us(both, rare_popular)
    assert walks == pytest.approx(plan_costs.WALK_STATEMENT_US + 20 * plan_costs.PROBE_US)
    # by rating, with an exclusion or a search, the rule is the set's bound as before
    assert _plan(both, rare_popular, Sort.TOP_RATED).shape.matching_set
    assert _plan(replace(both, exclude_tag_keys=(3,)), rare_popular).shape.matching_set
    assert _plan(replace(both, search="cat"), rare_popular).shape.matching_set
    # the bench's ALL 2, ALL 5, ALL 20 and tags + exclude on the long tail
    two = stats({1: (34, 494), 2: (20, 350)})
    assert _plan(both, two).shape.matching_set
    assert plan_rules.all_walks_us(both, two) is None  # the larger source's walk is capped
    five = ContentFilter(tag_keys=(1, 2, 3, 4, 5), match=TagMatch.ALL)
    counts = [(28, 581), (17, 312), (36, 612), (14, 255), (45, 654)]
    assert _plan(five, stats(dict(zip(range(1, 6), counts, strict=True)))).shape.matching_set
    twenty = ContentFilter(tag_keys=tuple(range(1, 21)), match=TagMatch.ALL)
    assert _plan(twenty, stats(dict.fromkeys(range(1, 21), (9, 237)))).shape.matching_set
    excluding = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, exclude_tag_keys=(3,))
    assert _plan(excluding, stats({1: (29, 639), 2: (11, 254), 3: (20, 400)})).shape.matching_set
    # uncapped walks of two short lists: the set reads them whole for less than the probes
    short = stats({1: (5, 60), 2: (8, 90)})
    assert plan_rules.all_walks_us(both, short) is not None
    assert _plan(both, short).shape.matching_set


def test_the_matching_set_needs_the_tags_uuids_and_no_creator() -> None:
    counts = {1: {Source.REGULAR: 1, AUTO: 19}}
    sizes = {Source.REGULAR: 64_000, AUTO: 1_100_000}
    flt = ContentFilter(tag_keys=(1,))
    assert not _plan(flt, TagStats(counts, sizes)).shape.matching_set
    known = TagStats(counts, sizes, {1: uuid4()})
    assert _plan(flt, known).shape.matching_set
    mine = ContentFilter(tag_keys=(1,), creator_id=uuid4())
    assert _plan(mine, known).strategy == "creator-walk"
    assert not _plan(ContentFilter(), known).shape.matching_set


def _pairs(source: Source, together: dict[tuple[int, int], int]) -> PairCounts:
    covered = frozenset(key for pair in together for key in pair)
    return PairCounts(
        {source: covered}, {(source, min(a, b), max(a, b)): n for (a, b), n in together.items()}
    )


def test_pairs_estimate_the_items_carrying_all_the_tags() -> None:
    """Each tag's share, times each pair's lift over independence: exact for two tags."""
    pairs = _pairs(AUTO, {(1, 2): 20_000, (1, 3): 10_000, (2, 3): 10_000})
    counts = {k: {AUTO: 100_000} for k in (1, 2, 3, 4)}
    stats = TagStats(counts, {AUTO: 1_000_000}, pairs=pairs)
    two = ContentFilter(tag_keys=(2, 1), match=TagMatch.ALL, sources=(AUTO,))
    three = ContentFilter(tag_keys=(1, 2, 3), match=TagMatch.ALL, sources=(AUTO,))
    assert plan_costs.matching_items(two, AUTO, stats) == pytest.approx(20_000)
    # 1M x 0.1^3, the pair (1, 2) meeting twice as often as independent tags
    assert plan_costs.matching_items(three, AUTO, stats) == pytest.approx(2_000)
    uncovered = ContentFilter(tag_keys=(1, 4), match=TagMatch.ALL, sources=(AUTO,))
    assert plan_costs.matching_items(uncovered, AUTO, stats) is None
    assert plan_costs.matching_items(replace(two, match=TagMatch.ANY), AUTO, stats) is None
    assert plan_costs.matching_items(two, AUTO, TagStats(counts, {AUTO: 1_000_000})) is None
    never = TagStats(counts, {AUTO: 1_000_000}, pairs=_pairs(AUTO, {(1, 2): 0}))
    assert plan_costs.matching_items(two, AUTO, never) == 0


def test_by_rating_the_pairs_choose_the_walk_or_the_bitmap_by_cost() -> None:
    """The long tail's ranks 50-51 meet on ~12.7k of 1.1M items: a page after ~2,250
    rows of the quality index (independence put it past half of RATED_WALK_MAX_ROWS: the
    least cap, then the bitmap sorted 12.5k items); ranks 100-101 on ~2,500: ~11,400 rows
    cost more than the bitmap's two lists and 2,500 items."""
    sizes = {AUTO: 1_100_000}
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(AUTO,))
    counts = {1: {AUTO: 113_000}, 2: {AUTO: 111_000}}
    assert plan_rules.rated_all_walk_cap(both, AUTO, TagStats(counts, sizes), 26) == 2_000
    met = TagStats(counts, sizes, pairs=_pairs(AUTO, {(1, 2): 12_700}))
    made = _plan(both, met, Sort.TOP_RATED)
    assert _kinds(made) == [(AUTO, BranchKind.RATED_WALK)]
    rows = 26 * 1_100_000 / 12_700
    assert made.params[param("page", WalkParam.CAP, 0)] == int(2 * rows)
    seldom = TagStats(
        {1: {AUTO: 55_000}, 2: {AUTO: 55_000}}, sizes, pairs=_pairs(AUTO, {(1, 2): 2_500})
    )
    made = _plan(both, seldom, Sort.TOP_RATED)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.BITMAP, TagTest.ALL_ARRAY),)
    # the cap never passes the rows that cost what the bitmap would
    expected = plan_costs.rated_walk_rows(both, AUTO, met, 26)
    assert expected is not None
    assert expected[1] > 2 * rows


def test_by_date_the_pairs_skip_a_walk_not_expected_to_fill() -> None:
    """ALL 5 of tags on ~16% of the items each, meeting a little more often than
    independent ones (~290 items carry all five): the page is expected after ~15k of the
    driver's postings, past the walk's cap (4,375): the bitmap at once. ALL 4 of tags on
    ~22% (~4,200 items): after ~1,500 postings, the walk with its whole cap, probing
    first the tag the driver meets least."""
    sizes = {AUTO: 1_100_000}
    ids = {k: uuid4() for k in range(1, 6)}
    five = ContentFilter(tag_keys=(1, 2, 3, 4, 5), match=TagMatch.ALL, sources=(AUTO,))
    counts = {k: {AUTO: 175_000} for k in range(1, 6)}
    lifted = {(a, b): 30_600 for a in range(1, 6) for b in range(a + 1, 6)}
    stats = TagStats(counts, sizes, ids, _pairs(AUTO, lifted))
    made = _plan(five, stats)
    assert made.shape.branches == (BranchShape(AUTO, BranchKind.BITMAP, TagTest.ALL_ARRAY),)
    assert made.strategy == "tag-array-bitmap"
    # the edge probe across a cursor walks: it starts at the cursor's own item
    probe = plan.plan_walk(five, Walk(Sort.NEWEST, False, None, 1, True), stats, "probe")
    assert _kinds(probe) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    # without the pairs: the walk, shortened (independence expects no page within it)
    unpaired = _plan(five, TagStats(counts, sizes, ids))
    assert _kinds(unpaired) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    four = ContentFilter(tag_keys=(1, 2, 3, 4), match=TagMatch.ALL, sources=(AUTO,))
    counts = {1: {AUTO: 240_000}, 2: {AUTO: 245_000}, 3: {AUTO: 250_000}, 4: {AUTO: 255_000}}
    together = {(a, b): 57_000 for a in range(1, 5) for b in range(a + 1, 5)}
    together[(1, 3)] = 50_000
    stats = TagStats(counts, sizes, ids, _pairs(AUTO, together))
    made = _plan(four, stats)
    assert _kinds(made) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    assert made.params[param("page", WalkParam.DRIVER, 0)] == 1
    assert made.params[param("page", WalkParam.FIRST, 0)] == 3
    assert made.params[param("page", WalkParam.OTHERS, 0)] == [2, 4]
    assert made.params[param("page", WalkParam.OTHERS_COUNT, 0)] == 2
    assert made.params[param("page", WalkParam.CAP, 0)] == plan_rules.all_walk_cap(
        four, AUTO, stats
    )
    assert made.shape.branches[0].probes_first
    # without the pairs, the rarest of the others is probed first
    made = _plan(four, TagStats(counts, sizes, ids))
    assert made.params[param("page", WalkParam.FIRST, 0)] == 2
    # tags on most items keep one probe for all the others: the first is mostly found
    common = TagStats({k: {AUTO: 800_000} for k in range(1, 5)}, sizes, ids)
    made = _plan(four, common)
    assert _kinds(made) == [(AUTO, BranchKind.CAPPED_POSTINGS)]
    assert not made.shape.branches[0].probes_first
    assert made.params[param("page", WalkParam.OTHERS, 0)] == [2, 3, 4]
    assert param("page", WalkParam.FIRST, 0) not in made.params
