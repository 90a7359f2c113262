"""A page request as a plan: a hashable shape (what the SQL looks like) and the values of
its named bind parameters. `page_sql` builds each shape's statement once.

The shape holds every decision of `strategies` (which branch per source, how each tests
the tags, which optional filters apply, the bound's source); the values hold everything
else (tag keys, the bound, the limit, users, search words).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import strategies
from gallery_gql.gallery.query.filters import ContentFilter, Position, Sort, TagMatch
from gallery_gql.gallery.query.tag_stats import TagStats


@dataclass(frozen=True)
class Walk:
    """One traversal: the sort, its direction, where to start (exclusive), how many rows."""

    sort: Sort
    descending: bool
    bound: Position | None
    limit: int
    include_bound: bool = False


class BranchKind(Enum):
    ITEMS = "items"  # the item table's sort index (or one creator's items)
    POSTINGS = "postings"  # one tag's postings in the junction's sort index
    EACH_TAG_POSTINGS = "each-tag-postings"  # ANY: POSTINGS of each tag, one LATERAL walk
    CAPPED_POSTINGS = "capped-postings"  # ALL by date: a capped rarest-tag walk, else BITMAP
    RATED_WALK = "rated-walk"  # ALL by rating: a capped quality-index walk, else BITMAP
    BITMAP = "bitmap"  # the matching items (tag-array GIN), sorted


class TagTest(Enum):
    """How a branch over item rows tests the filter's tags."""

    NONE = "none"
    ANY = "any"  # the row's tag array overlaps them
    ALL_ARRAY = "all-array"  # the row's tag array contains them
    ALL_PROBES = "all-probes"  # each is found in the junction (one index descent a tag)


@dataclass(frozen=True)
class BranchShape:
    source: Source
    kind: BranchKind
    tags: TagTest = TagTest.NONE
    probes_others: bool = False  # POSTINGS: keep items carrying the other ALL tags


@dataclass(frozen=True)
class FilterShape:
    """Which optional conditions apply; their values are bind parameters."""

    viewer: bool
    creator: bool
    exclude_creator: bool
    search: bool
    exclude_tags: bool
    tag_ids: bool  # the tags' UUIDs are known: array tests bind them (planned by value)

    @classmethod
    def of(cls, flt: ContentFilter, stats: TagStats) -> FilterShape:
        return cls(
            viewer=flt.viewer_id is not None,
            creator=flt.creator_id is not None,
            exclude_creator=flt.exclude_creator_id is not None,
            search=flt.search is not None,
            exclude_tags=bool(flt.exclude_tag_keys),
            tag_ids=bool(flt.tag_keys) and all(key in stats.ids for key in flt.tag_keys),
        )


@dataclass(frozen=True)
class WalkShape:
    """A merged walk's SQL shape. `name` prefixes its own parameters, so two walks (a page
    and its probe) can share one statement."""

    name: str
    sort: Sort
    descending: bool
    bound_source: Source | None  # the bound's source decides each branch's comparison
    include_bound: bool
    filter: FilterShape
    branches: tuple[BranchShape, ...]

    @property
    def merges_repeats(self) -> bool:
        """Per-tag walks of one source can meet an item twice."""
        return any(branch.kind is BranchKind.EACH_TAG_POSTINGS for branch in self.branches)


@dataclass(frozen=True)
class WalkPlan:
    shape: WalkShape
    params: dict[str, Any]


def param(walk: str, name: str, branch: int | None = None) -> str:
    """The bind parameter name of a walk's (or one of its branches') value."""
    return f"{walk}_{name}" if branch is None else f"{walk}_{branch}_{name}"


def _filter_params(flt: ContentFilter, stats: TagStats, shape: FilterShape) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if flt.viewer_id is not None:
        params["viewer_id"] = flt.viewer_id
    if flt.creator_id is not None:
        params["creator_id"] = flt.creator_id
    if flt.exclude_creator_id is not None:
        params["exclude_creator_id"] = flt.exclude_creator_id
    if flt.search is not None:
        params["search"] = flt.search
    if flt.exclude_tag_keys:
        params["exclude_tags"] = list(flt.exclude_tag_keys)
    if flt.tag_keys:
        params["tag_keys"] = list(flt.tag_keys)
        params["tag_count"] = len(flt.tag_keys)
        if shape.tag_ids:
            params["tag_ids"] = [stats.ids[key] for key in flt.tag_keys]
    return params


def _item_test(flt: ContentFilter) -> TagTest:
    """The tag test of a walk over item rows in sort order."""
    if not flt.tag_keys:
        return TagTest.NONE
    if flt.match is TagMatch.ALL or (
        strategies.walks_creator_items(flt) and len(flt.tag_keys) == 1
    ):
        return TagTest.ALL_PROBES
    return TagTest.ANY


def plan_walk(flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> WalkPlan:
    """The per-source (and, for ANY, per-tag) walks whose merge is the page, with the
    values of their parameters."""
    shape_of_filter = FilterShape.of(flt, stats)
    params = _filter_params(flt, stats, shape_of_filter)
    params[param(name, "limit")] = walk.limit
    if walk.bound is not None:
        params[param(name, "value")] = walk.bound.value
        params[param(name, "id")] = walk.bound.id
    branches: list[BranchShape] = []

    def postings(
        source: Source, driver: int, others: tuple[int, ...], cap: int | None = None
    ) -> None:
        index = len(branches)
        params[param(name, "driver", index)] = driver
        if others:
            params[param(name, "others", index)] = list(others)
            params[param(name, "others_count", index)] = len(others)
        if cap is not None:
            params[param(name, "cap", index)] = cap
            shape = BranchShape(source, BranchKind.CAPPED_POSTINGS, TagTest.ALL_ARRAY, True)
        else:
            shape = BranchShape(source, BranchKind.POSTINGS, probes_others=bool(others))
        branches.append(shape)

    for source in flt.sources:
        if (
            not flt.tag_keys
            or strategies.walks_creator_items(flt)
            or strategies.walks_items_for_any(flt, source, stats, walk.limit)
        ):
            branches.append(BranchShape(source, BranchKind.ITEMS, _item_test(flt)))
        elif strategies.walks_items_for_rating(flt, walk.sort, source, stats, walk.limit):
            if flt.match is TagMatch.ALL:
                params[param(name, "cap", len(branches))] = strategies.RATED_ALL_WALK_CAP
                test = TagTest.ALL_ARRAY if shape_of_filter.tag_ids else TagTest.ALL_PROBES
                branches.append(BranchShape(source, BranchKind.RATED_WALK, test))
            else:
                branches.append(BranchShape(source, BranchKind.ITEMS, _item_test(flt)))
        elif walk.sort.column == "quality_score":
            test = TagTest.ALL_ARRAY if flt.match is TagMatch.ALL else TagTest.ANY
            branches.append(BranchShape(source, BranchKind.BITMAP, test))
        elif flt.match is TagMatch.ALL:
            driver = strategies.rarest(flt.tag_keys, source, stats)
            others = tuple(key for key in flt.tag_keys if key != driver)
            postings(source, driver, others, strategies.all_walk_cap(flt, source, stats))
        else:
            # An excluded tag can never select an item: walking it would only filter.
            walked = [key for key in flt.tag_keys if key not in flt.exclude_tag_keys]
            if len(walked) == 1:
                postings(source, walked[0], ())
            elif walked:
                params[param(name, "keys", len(branches))] = walked
                branches.append(BranchShape(source, BranchKind.EACH_TAG_POSTINGS))
    shape = WalkShape(
        name=name,
        sort=walk.sort,
        descending=walk.descending,
        bound_source=walk.bound.source if walk.bound is not None else None,
        include_bound=walk.include_bound,
        filter=shape_of_filter,
        branches=tuple(branches),
    )
    return WalkPlan(shape, params)
