"""The page read as one matching set: every matching item of every source found through
the GIN index on the items' tag arrays, with the columns the page returns, and the page
(and, with a bound, its edge probe) taken from that set.

For a filter whose matching items are few (`plan_rules.reads_matching_set`) this is the
whole cost of a page: the walks' statement, with a branch and a limit per source, a
merge and the items joined back by id, cost 0.4-0.9 ms to plan for 0.1-0.5 ms of work on
the long-tail profile at full scale, where this one plans in ~0.1 ms (docs/decisions.md).
The set is a CTE: referenced by the page and its probe, PostgreSQL builds it once.

The statement's SQL fixes its plan (the set through the tag-array GIN index, fenced,
then sorted), so it can run under a generic plan, planned once per session
(`db/raw.fetch_rows`): `matching_set_plan` says how. Its constants (the sources, the fence's
OFFSET 0, the parts' names) are written into the SQL rather than bound, and the rows
carry the sort column once, as the item's own column.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    literal_column,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from gallery_gql.db.raw import Plan
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.query.conditions import (
    constant,
    excluded,
    item_conditions,
    limit_of,
    tag_test,
)
from gallery_gql.gallery.query.shapes import (
    BranchShape,
    FilterParam,
    FilterShape,
    WalkParam,
    WalkShape,
    param,
)
from gallery_gql.gallery.query.sql import SHAPES_CACHED, item_data_columns


def _not_excluded(item: Any, branch: BranchShape, flt: FilterShape) -> ColumnElement[bool]:
    """The excluded tags tested on the row's own tag array when their UUIDs are known
    (no subplan to plan), else probed in the junction."""
    if not flt.exclude_tags:
        return true()
    if flt.exclude_ids:
        ids = bindparam(FilterParam.EXCLUDE_IDS, type_=ARRAY(PG_UUID(as_uuid=True)), required=True)
        return ~item.c.tags.overlap(ids)  # type: ignore[no-any-return]
    return excluded(branch.source, item.c.id, item.c.created_at, flt)


def matching_set_plan(page: WalkShape, probe: WalkShape | None) -> Plan:
    """How the statement is planned (`db/raw.Plan`). Generic, planned once per session:
    on a session kept in generic mode when one is to be had; else a page with its edge
    probe (after a cursor), whose custom plan costs ~0.18-0.25 ms, more than the round
    trip that switches the session to generic plans costs even on a busy machine,
    switches; a first page, planned in ~0.08 ms, about that round trip, is then planned
    custom (docs/decisions.md). Never generic with a search, whose words' index the
    planner may prefer to the tags' when it sees neither value."""
    if page.filter.search:
        return Plan.CUSTOM
    return Plan.GENERIC if probe is not None else Plan.GENERIC_IF_KEPT


def _source_set(walk: WalkShape, branch: BranchShape, names: tuple[str, ...]) -> Select[Any]:
    """One source's matching items with their columns. OFFSET 0 fences the set, as in
    `sql._bitmap_branch`: the planner must not walk a sort index for the page's order."""
    item = CONTENT_TABLES[branch.source]
    return (
        select(constant(branch.source).label("source"), item.c.id, *(item.c[n] for n in names))
        .where(
            tag_test(branch.tags, branch.source, item, item.c.created_at, walk.filter),
            *item_conditions(item, walk.filter, branch.whose),
            _not_excluded(item, branch, walk.filter),
        )
        .offset(constant(0))
    )


def _past_bound(matching: Any, walk: WalkShape) -> ColumnElement[bool]:
    """Rows past the walk's bound in walk order: (sort value, source, id) compared as a
    row, all three in the walk's direction (the bound itself only with `include_bound`)."""
    if walk.bound_source is None:
        return true()
    sort_value = matching.c[walk.sort.column]
    row = tuple_(sort_value, matching.c.source, matching.c.id)
    value = bindparam(param(walk.name, WalkParam.BOUND_VALUE), type_=sort_value.type, required=True)
    item_id = bindparam(param(walk.name, WalkParam.BOUND_ID), type_=Integer, required=True)
    bound = tuple_(value, constant(walk.bound_source), item_id)
    if walk.descending:
        return row <= bound if walk.include_bound else row < bound
    return row >= bound if walk.include_bound else row > bound


def _taken(part: str | None, matching: Any, walk: WalkShape) -> Select[Any]:
    """The walk's first rows of the set, tagged with the part of the statement (none
    when the statement has one part)."""
    cols = (matching.c[walk.sort.column], matching.c.source, matching.c.id)
    tagged: list[Any] = [] if part is None else [literal_column(f"'{part}'").label("part")]
    return (
        select(*tagged, matching)
        .where(_past_bound(matching, walk))
        .order_by(*(c.desc() if walk.descending else c.asc() for c in cols))
        .limit(limit_of(walk))
    )


@lru_cache(maxsize=SHAPES_CACHED)
def matching_set_statement(
    page: WalkShape,
    probe: WalkShape | None,
    columns: frozenset[str],
) -> Select[Any]:
    """Rows (source, id, the item's `columns`: `sql.item_data_columns`, which must include
    the sort's) of the page and, with a bound, of the probe
    across it, tagged with their part ("page" or "probe") as `sql.page_statement` tags
    them; `page` (and `probe`) read as one matching set, over the same sources.

    A first page reads the set as a subquery (a CTE around it cost ~15 us more to plan);
    with a probe, the set is a CTE both read (built once)."""
    names = item_data_columns(columns)
    sets = [_source_set(page, branch, names) for branch in page.branches]
    union = union_all(*sets) if len(sets) > 1 else sets[0]
    if probe is None:
        return _taken(None, union.subquery("matching"), page)
    matching = union.cte("matching")
    parts = union_all(
        _taken("page", matching, page).subquery("page_rows").select(),
        _taken("probe", matching, probe).subquery("probe_rows").select(),
    )
    return parts.subquery("walked").select()
