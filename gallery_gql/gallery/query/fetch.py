"""Runs a page request: one statement for the page's items and, with a cursor, the edge
probe. `fetch_page_rows` hands out the page's rows as the driver returned them (the
compiled path renders from them); `fetch_page` makes an `ItemRecord` of each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.raw import Plan, fetch_rows
from gallery_gql.gallery.keys import SOURCE_OF_NUMBER, ItemKey
from gallery_gql.gallery.lookups import item_from_columns
from gallery_gql.gallery.query.filters import ContentFilter, PageRequest, Position, Sort
from gallery_gql.gallery.query.matching_sql import matching_set_plan, matching_set_statement
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.gallery.query.shapes import Walk, WalkParam, WalkPlan, WalkShape, param
from gallery_gql.gallery.query.sql import page_statement, walks_plan, whole_item_columns
from gallery_gql.gallery.query.tag_stats import TagStats
from gallery_gql.gallery.records import ItemRecord


@dataclass(frozen=True)
class Page:
    positions: list[Position]
    has_next: bool
    has_previous: bool
    items: dict[ItemKey, ItemRecord] = field(default_factory=dict)
    """The page's items, read in the page's statement."""
    strategy: str = "nothing"
    """How the page was read (`plan.strategy_of`): metrics and the bench."""


@dataclass(frozen=True)
class PageRows:
    """A page as its rows: each position's row (asyncpg records, columns by name), in
    page order."""

    positions: list[Position]
    rows: list[Any]
    has_next: bool
    has_previous: bool
    strategy: str = "nothing"


async def fetch_page(
    conn: AsyncConnection,
    flt: ContentFilter,
    sort: Sort,
    request: PageRequest,
    stats: TagStats,
    *,
    item_tags: bool = True,
) -> Page:
    """The page in sort order. Forward pages walk from `after`; backward pages walk the
    reverse order from `before` and are flipped. The probe looks back across the
    cursor (the cursor's own item included) so the other has*Page flag is exact: a page
    reached from a cursor has a previous page while anything precedes its first item.
    Without `item_tags` the items' tag arrays are not read (their `tags` are None)."""
    read = await fetch_page_rows(conn, flt, sort, request, stats, whole_item_columns(item_tags))
    items = {}
    for row in read.rows:
        record = item_from_columns(row)
        items[record.key] = record
    return Page(read.positions, read.has_next, read.has_previous, items, read.strategy)


async def fetch_page_rows(
    conn: AsyncConnection,
    flt: ContentFilter,
    sort: Sort,
    request: PageRequest,
    stats: TagStats,
    columns: frozenset[str],
) -> PageRows:
    """`fetch_page`'s page with its rows as read (no record built for them): the items'
    `columns`, with the source, id and sort value the page needs."""
    if flt.matches_nothing:
        return PageRows([], [], False, False)
    planned = plan_page(flt, sort, request, stats)
    main, probe, descending = planned.main, planned.probe, planned.descending
    if not main.shape.branches:
        return PageRows([], [], False, False, main.strategy)
    stmt, plan, value_column = page_read(main.shape, probe.shape if probe else None, columns)
    rows = await fetch_rows(conn, stmt, planned.params, plan=plan)
    walked, across = _page_rows(rows, descending, value_column, probe is not None)
    more = len(walked) > request.size
    kept = walked[: request.size]
    if request.backward:
        kept.reverse()
    positions = [
        Position(value, SOURCE_OF_NUMBER[source], item_id) for value, source, item_id, _ in kept
    ]
    rows = [row for *_, row in kept]
    if request.backward:
        return PageRows(positions, rows, across, more, main.strategy)
    return PageRows(positions, rows, more, across, main.strategy)


@dataclass(frozen=True)
class PagePlan:
    """A page's walk and, with a bound, its edge probe, planned; the page's parameters."""

    main: WalkPlan
    probe: WalkPlan | None
    descending: bool
    """The direction walked (a backward page walks the sort's reverse)."""

    @property
    def params(self) -> dict[str, Any]:
        return self.main.params if self.probe is None else {**self.main.params, **self.probe.params}


def plan_page(flt: ContentFilter, sort: Sort, request: PageRequest, stats: TagStats) -> PagePlan:
    """The walks `fetch_page_rows` reads: forward from `after`, or backward from `before`;
    the probe looks back across the bound (the bound's own item included)."""
    bound = request.before if request.backward else request.after
    descending = sort.descending != request.backward
    main = plan_walk(flt, Walk(sort, descending, bound, request.size + 1), stats, "page")
    probe = None
    if bound is not None and main.shape.branches:
        back = Walk(sort, not descending, bound, 1, include_bound=True)
        probe = probe_plan(main, flt, back, stats)
    return PagePlan(main, probe, descending)


def page_read(
    page: WalkShape,
    probe: WalkShape | None,
    columns: frozenset[str],
) -> tuple[Select[Any], Plan, str]:
    """The page's statement, how it is planned, and the column its rows' sort values are
    in: one matching set, or the walks. `columns`: the items' columns read
    (`sql.whole_item_columns` for whole items); the sort's is always among them (a matching
    set orders by it)."""
    columns = columns | {page.sort.column}
    if page.matching_set and (probe is None or probe.matching_set):
        return (
            matching_set_statement(page, probe, columns),
            matching_set_plan(page, probe),
            page.sort.column,
        )
    return (
        page_statement(page, probe, columns),
        walks_plan(page, probe),
        "sort_value",
    )


def probe_plan(main: WalkPlan, flt: ContentFilter, back: Walk, stats: TagStats) -> WalkPlan:
    """The edge probe's plan: `plan_walk`'s for `back` named "probe". A page read as one
    matching set has a probe over the same set (its branches and filter depend on the
    filter and counts alone), so only the walk's own fields and parameters differ: the
    filter is not planned a second time (~15-35 us a page, docs/benchmarks.md)."""
    if not main.shape.matching_set or back.bound is None:
        return plan_walk(flt, back, stats, "probe")
    shape = replace(
        main.shape,
        name="probe",
        descending=back.descending,
        bound_source=back.bound.source,
        include_bound=back.include_bound,
        limit=back.limit,
    )
    params = {
        param("probe", WalkParam.LIMIT): back.limit,
        param("probe", WalkParam.BOUND_VALUE): back.bound.value,
        param("probe", WalkParam.BOUND_ID): back.bound.id,
    }
    return WalkPlan(shape, params, main.strategy)


def _page_rows(
    rows: Sequence[Any], descending: bool, value_column: str, probed: bool
) -> tuple[list[tuple[Any, ...]], bool]:
    """The page's rows as (sort value, source, id, row) in walk order (UNION ALL does not
    promise to keep each part's order), and whether the probe found a row. The sort
    value is the row's `value_column`; rows are tagged with their part when `probed`."""
    walked = []
    across = False
    for row in rows:
        if not probed or row["part"] == "page":
            walked.append((row[value_column], row["source"], row["id"], row))
        else:
            across = True
    walked.sort(key=_walk_key, reverse=descending)
    return walked, across


_walk_key = itemgetter(0, 1, 2)
"""An entry's sort value, source and id (a C function: ~26 calls a page)."""
