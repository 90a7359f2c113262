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
planned before with the same counts costs a lookup. Each choice of the tree is a rule of
`plan_rules`, which holds the estimates of `plan_costs` to its thresholds.

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

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, TagMatch, Whose
from gallery_gql.gallery.query.plan_costs import matching_items, rarest
from gallery_gql.gallery.query.plan_memo import PlanMemo
from gallery_gql.gallery.query.plan_rules import (
    ALL_WALK_MIN_CAP,
    SPARSE_ALL_CAP_SHARE,
    all_reads_bitmap,
    all_walk_cap,
    all_walk_fills,
    probed_first,
    probes_first,
    rated_all_walk_cap,
    reads_matching_set,
    walks_creator_items,
    walks_items_for_any,
    walks_items_for_rating,
)
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
