"""Which SQL shape reads a page: per source, a walk of the item table's sort index or of
tag postings (junction index), chosen from the exact tag counts.

A plan is a hashable shape (what the SQL looks like) and the values of its named bind
parameters; `page_sql` builds each shape's statement once. Every shape yields rows
(source, id, sort_value) in walk order, limited; all shapes return the same rows for the
same request (the model tests hold them to it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gallery_gql.gallery.filters import ContentFilter, Position, Sort, Source, TagMatch
from gallery_gql.gallery.tag_stats import TagStats

OVERLAP_WALK_MAX_ROWS = 2_000
"""ANY of several tags walks the item table's sort index and tests each row's tag array
when a page is expected within this many rows; otherwise it merges one junction walk per
tag. Per-tag walks cost planning time per branch (ANY 20 = 40 branches: 45 ms at full
scale), and common tags fill a page from the first rows of a single walk."""


@dataclass(frozen=True)
class Walk:
    """One traversal: the sort, its direction, where to start (exclusive), how many rows."""

    sort: Sort
    descending: bool
    bound: Position | None
    limit: int
    include_bound: bool = False


class BranchKind(Enum):
    ITEMS = "items"  # the item table's sort index
    POSTINGS = "postings"  # one tag's postings in the junction's sort index


@dataclass(frozen=True)
class BranchShape:
    source: Source
    kind: BranchKind
    tests_any: bool = False  # ITEMS: keep rows whose tag array overlaps the ANY tags
    probes_others: bool = False  # POSTINGS: keep items carrying the other ALL tags


@dataclass(frozen=True)
class FilterShape:
    """Which optional conditions apply; their values are bind parameters."""

    viewer: bool
    creator: bool
    exclude_creator: bool
    search: bool
    exclude_tags: bool

    @classmethod
    def of(cls, flt: ContentFilter) -> FilterShape:
        return cls(
            viewer=flt.viewer_id is not None,
            creator=flt.creator_id is not None,
            exclude_creator=flt.exclude_creator_id is not None,
            search=flt.search is not None,
            exclude_tags=bool(flt.exclude_tag_keys),
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
        return len(self.branches) > len({branch.source for branch in self.branches})


@dataclass(frozen=True)
class WalkPlan:
    shape: WalkShape
    params: dict[str, Any]


def param(walk: str, name: str, branch: int | None = None) -> str:
    """The bind parameter name of a walk's (or one of its branches') value."""
    return f"{walk}_{name}" if branch is None else f"{walk}_{branch}_{name}"


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


def strategy_name(flt: ContentFilter, stats: TagStats, limit: int) -> str:
    """A label for the SQL shape a filter gets (metrics and benchmarks)."""
    if not flt.tag_keys:
        return "sort-index-walk"
    if flt.match is TagMatch.ALL and len(flt.tag_keys) > 1:
        return "rarest-tag-walk"
    names = sorted(
        {
            "item-walk-overlap" if walks_items_for_any(flt, s, stats, limit) else "tag-walk-merge"
            for s in flt.sources
        }
    )
    return "+".join(names)


def _filter_params(flt: ContentFilter) -> dict[str, Any]:
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
        params["any_tags"] = list(flt.tag_keys)
    return params


def plan_walk(flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> WalkPlan:
    """The per-source (and, for ANY, per-tag) walks whose merge is the page, with the
    values of their parameters."""
    params = _filter_params(flt)
    params[param(name, "limit")] = walk.limit
    if walk.bound is not None:
        params[param(name, "value")] = walk.bound.value
        params[param(name, "id")] = walk.bound.id
    branches: list[BranchShape] = []

    def postings(source: Source, driver: int, others: tuple[int, ...]) -> None:
        index = len(branches)
        params[param(name, "driver", index)] = driver
        if others:
            params[param(name, "others", index)] = list(others)
            params[param(name, "others_count", index)] = len(others)
        branches.append(BranchShape(source, BranchKind.POSTINGS, probes_others=bool(others)))

    for source in flt.sources:
        if not flt.tag_keys or walks_items_for_any(flt, source, stats, walk.limit):
            branches.append(BranchShape(source, BranchKind.ITEMS, tests_any=bool(flt.tag_keys)))
        elif flt.match is TagMatch.ALL:
            driver = rarest(flt.tag_keys, source, stats)
            postings(source, driver, tuple(key for key in flt.tag_keys if key != driver))
        else:
            # An excluded tag can never select an item: walking it would only filter.
            for key in flt.tag_keys:
                if key not in flt.exclude_tag_keys:
                    postings(source, key, ())
    shape = WalkShape(
        name=name,
        sort=walk.sort,
        descending=walk.descending,
        bound_source=walk.bound.source if walk.bound is not None else None,
        include_bound=walk.include_bound,
        filter=FilterShape.of(flt),
        branches=tuple(branches),
    )
    return WalkPlan(shape, params)
