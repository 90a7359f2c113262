"""Page statements built once per shape, with named bind parameters for every value.

Building a page statement cost more than running it (0.5 ms of SQLAlchemy construction
and cache-key generation per page); a statement object built once keeps its cache key
memoized, so executing it again with new values goes straight to SQLAlchemy's compiled
cache (docs/decisions.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql.expression import Subquery

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import CONTENT_TABLES, ITEM_COLUMNS, content_tags, tags
from gallery_gql.gallery.filters import Source
from gallery_gql.gallery.strategies import BranchKind, BranchShape, FilterShape, WalkShape, param

SHAPES_CACHED = 1_024
"""Distinct page shapes kept (sources, strategy per source, sort, direction, bound,
optional filters); SQLAlchemy's compiled cache must hold at least as many."""

ITEM_DATA_COLUMNS = tuple(name for name in (*ITEM_COLUMNS, "version") if name != "id")

# Built once: an alias proxies every column of its table.
_POSTING = content_tags.alias("posting")
_REQUIRED = content_tags.alias("required")
_EXCLUDED = content_tags.alias("excluded")


def _keyset(value_col: Any, id_col: Any, source: Source, walk: WalkShape) -> ColumnElement[bool]:
    """Rows past the walk's bound in walk order (the bound itself only with
    `include_bound`), for a branch of one source."""
    if walk.bound_source is None:
        return true()
    value = bindparam(param(walk.name, "value"), type_=value_col.type, required=True)
    item_id = bindparam(param(walk.name, "id"), type_=Integer, required=True)
    after_bound = source > walk.bound_source
    before_bound = source < walk.bound_source
    if walk.descending:
        if before_bound:
            return value_col <= value  # type: ignore[no-any-return]
        if after_bound:
            return value_col < value  # type: ignore[no-any-return]
        if walk.include_bound:
            return tuple_(value_col, id_col) <= tuple_(value, item_id)
        return tuple_(value_col, id_col) < tuple_(value, item_id)
    if after_bound:
        return value_col >= value  # type: ignore[no-any-return]
    if before_bound:
        return value_col > value  # type: ignore[no-any-return]
    if walk.include_bound:
        return tuple_(value_col, id_col) >= tuple_(value, item_id)
    return tuple_(value_col, id_col) > tuple_(value, item_id)


def _order(value_col: Any, id_col: Any, descending: bool) -> list[Any]:
    if descending:
        return [value_col.desc(), id_col.desc()]
    return [value_col.asc(), id_col.asc()]


def _limit(walk: WalkShape) -> Any:
    return bindparam(param(walk.name, "limit"), type_=Integer, required=True)


def _item_conditions(item: Any, flt: FilterShape) -> list[ColumnElement[bool]]:
    """Privacy, creator and search conditions on an item table row."""
    user = item.c.creator_id.type
    conditions: list[ColumnElement[bool]] = []
    if flt.viewer:
        viewer = bindparam("viewer_id", type_=user, required=True)
        conditions.append(or_(not_(item.c.is_private), item.c.creator_id == viewer))
    else:
        conditions.append(not_(item.c.is_private))
    if flt.creator:
        conditions.append(item.c.creator_id == bindparam("creator_id", type_=user, required=True))
    if flt.exclude_creator:
        excluded = bindparam("exclude_creator_id", type_=user, required=True)
        conditions.append(item.c.creator_id != excluded)
    if flt.search:
        words = func.plainto_tsquery("simple", bindparam("search", type_=Text, required=True))
        conditions.append(item.c.search_vector.op("@@")(words))
    return conditions


def _excluded(source: Source, item_id: Any, flt: FilterShape) -> ColumnElement[bool]:
    if not flt.exclude_tags:
        return true()
    probe = _EXCLUDED
    return ~exists().where(
        probe.c.source == int(source),
        probe.c.item_id == item_id,
        probe.c.tag_key == any_int("exclude_tags"),
    )


def _carries_others(
    walk: WalkShape, index: int, branch: BranchShape, item_id: Any
) -> ColumnElement[bool]:
    if not branch.probes_others:
        return true()
    probe = _REQUIRED
    carried = (
        select(func.count())
        .where(
            probe.c.source == int(branch.source),
            probe.c.item_id == item_id,
            probe.c.tag_key == any_int(param(walk.name, "others", index)),
        )
        .scalar_subquery()
    )
    needed = bindparam(param(walk.name, "others_count", index), type_=Integer, required=True)
    return carried == needed


def _carries_any(item: Any, branch: BranchShape) -> ColumnElement[bool]:
    if not branch.tests_any:
        return true()
    wanted = (
        select(func.array_agg(tags.c.id)).where(tags.c.tag_key == any_int("any_tags"))
    ).scalar_subquery()
    return item.c.tags.overlap(wanted)  # type: ignore[no-any-return]


def _items_branch(walk: WalkShape, branch: BranchShape) -> Select[Any]:
    """Walk the item table's own sort index; with tags (ANY), keep the rows whose tag
    array overlaps them."""
    source = branch.source
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    return (
        select(
            literal(int(source)).label("source"),
            item.c.id.label("id"),
            value_col.label("sort_value"),
        )
        .where(
            *_item_conditions(item, walk.filter),
            _carries_any(item, branch),
            _excluded(source, item.c.id, walk.filter),
            _keyset(value_col, item.c.id, source, walk),
        )
        .order_by(*_order(value_col, item.c.id, walk.descending))
        .limit(_limit(walk))
    )


def _postings_branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    """Walk one tag's postings in sort order (junction index), probing the other tags."""
    source = branch.source
    posting = _POSTING
    item = CONTENT_TABLES[source]
    value_col = posting.c[walk.sort.column]
    driver = bindparam(param(walk.name, "driver", index), type_=Integer, required=True)
    return (
        select(
            literal(int(source)).label("source"),
            posting.c.item_id.label("id"),
            value_col.label("sort_value"),
        )
        .join(item, item.c.id == posting.c.item_id)
        .where(
            posting.c.tag_key == driver,
            posting.c.source == int(source),
            _keyset(value_col, posting.c.item_id, source, walk),
            _carries_others(walk, index, branch, posting.c.item_id),
            _excluded(source, posting.c.item_id, walk.filter),
            *_item_conditions(item, walk.filter),
        )
        .order_by(*_order(value_col, posting.c.item_id, walk.descending))
        .limit(_limit(walk))
    )


def _branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    if branch.kind is BranchKind.ITEMS:
        return _items_branch(walk, branch)
    return _postings_branch(walk, index, branch)


@lru_cache(maxsize=SHAPES_CACHED)
def walk_statement(walk: WalkShape) -> Select[Any] | None:
    """The merged walk: (source, id, sort_value) in walk order, at most the walk's limit
    rows; None when there is nothing to walk."""
    if not walk.branches:
        return None
    parts = [_branch(walk, index, branch) for index, branch in enumerate(walk.branches)]
    merged = union_all(*(part.subquery().select() for part in parts)).subquery("u")
    cols = (merged.c.sort_value, merged.c.source, merged.c.id)
    stmt = select(merged.c.source, merged.c.id, merged.c.sort_value)
    if walk.merges_repeats:
        stmt = stmt.distinct()
    return stmt.order_by(*(c.desc() if walk.descending else c.asc() for c in cols)).limit(
        _limit(walk)
    )


def _tagged(part: str, stmt: Select[Any]) -> Select[Any]:
    sub = stmt.subquery()
    return select(literal(part).label("part"), sub.c.source, sub.c.id, sub.c.sort_value)


def _with_items(walked: Subquery, item_tags: bool) -> Select[Any]:
    """The walked rows with their items' columns, read in the same statement (and
    snapshot): one join per source, each column taken from the row's own source. The
    tag array (~77 UUIDs an item, most of the decoding) only with `item_tags`."""
    joined: Any = walked
    tables = {
        source: table.alias(f"item_{int(source)}") for source, table in CONTENT_TABLES.items()
    }
    for source, table in tables.items():
        on = and_(walked.c.source == int(source), table.c.id == walked.c.id)
        joined = joined.outerjoin(table, on)
    columns = [
        case(
            *((walked.c.source == int(source), table.c[name]) for source, table in tables.items())
        ).label(name)
        for name in ITEM_DATA_COLUMNS
        if item_tags or name != "tags"
    ]
    return select(walked, *columns).select_from(joined)


@lru_cache(maxsize=SHAPES_CACHED)
def page_statement(page: WalkShape, probe: WalkShape | None, item_tags: bool) -> Select[Any]:
    """The page's walk, and with a bound the probe across it, as one statement of rows
    (part, source, id, sort_value, the item's columns); `page` must have branches."""
    main = walk_statement(page)
    assert main is not None, "a page without branches has no statement"
    across = walk_statement(probe) if probe is not None else None
    if across is None:
        return _with_items(_tagged("page", main).subquery("walked"), item_tags)
    walked = union_all(_tagged("page", main), _tagged("probe", across))
    return _with_items(walked.subquery("walked"), item_tags)


@lru_cache(maxsize=SHAPES_CACHED)
def count_statement(walk: WalkShape) -> Select[Any] | None:
    """How many rows the walk yields (up to its limit)."""
    stmt = walk_statement(walk)
    if stmt is None:
        return None
    return select(func.count()).select_from(stmt.subquery())
