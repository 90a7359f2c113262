"""The conditions and columns page branches are made of: keyset bounds, privacy and
creator filters, tag tests on item rows, and probes of the junction by a link's whole key.
Every value is a named bind parameter (see `shapes.param`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import content_tags, tags
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Whose
from gallery_gql.gallery.query.shapes import (
    FilterParam,
    FilterShape,
    TagTest,
    WalkParam,
    WalkShape,
    param,
)

# Built once: an alias proxies every column of its table.
_REQUIRED = content_tags.alias("required")
_EXCLUDED = content_tags.alias("excluded")


def keyset(value_col: Any, id_col: Any, source: Source, walk: WalkShape) -> ColumnElement[bool]:
    """Rows past the walk's bound in walk order (the bound itself only with
    `include_bound`), for a branch of one source."""
    if walk.bound_source is None:
        return true()
    value = bindparam(param(walk.name, WalkParam.BOUND_VALUE), type_=value_col.type, required=True)
    item_id = bindparam(param(walk.name, WalkParam.BOUND_ID), type_=Integer, required=True)
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


def constant(value: int) -> Any:
    """An integer written into the SQL: not one more parameter, and seen by a generic
    plan (db/raw.py)."""
    return literal_column(str(int(value)), Integer)


def walked_columns(source: Source, id_col: Any, value_col: Any) -> list[Any]:
    """The columns every branch yields: (source, id, sort_value)."""
    return [constant(source).label("source"), id_col.label("id"), value_col.label("sort_value")]


def order_by(value_col: Any, id_col: Any, descending: bool) -> list[Any]:
    if descending:
        return [value_col.desc(), id_col.desc()]
    return [value_col.asc(), id_col.asc()]


def limit_of(walk: WalkShape) -> Any:
    """The walk's row limit: written into the SQL when the shape carries it (a generic
    plan of a LIMIT it cannot see expects a tenth of the table, and hashes or gathers
    where the custom plan walks an index: 7-59 ms against 0.1-0.2 at full scale,
    docs/decisions.md), else bound."""
    if walk.limit is not None:
        return constant(walk.limit)
    return bindparam(param(walk.name, WalkParam.LIMIT), type_=Integer, required=True)


def item_conditions(item: Any, flt: FilterShape, whose: Whose) -> list[ColumnElement[bool]]:
    """Privacy, creator and search conditions on a row of the item table of a branch
    that keeps `whose` items."""
    user = item.c.creator_id.type
    conditions: list[ColumnElement[bool]] = []
    if flt.viewer:
        viewer = bindparam(FilterParam.VIEWER_ID, type_=user, required=True)
        conditions.append(or_(not_(item.c.is_private), item.c.creator_id == viewer))
    else:
        conditions.append(not_(item.c.is_private))
    if flt.creator:
        conditions.append(
            item.c.creator_id == bindparam(FilterParam.CREATOR_ID, type_=user, required=True)
        )
    if whose is not Whose.ANYONE:
        viewer = bindparam(FilterParam.VIEWER_ID, type_=user, required=True)
        mine = item.c.creator_id == viewer
        conditions.append(mine if whose is Whose.VIEWER else item.c.creator_id != viewer)
    if flt.exclude_creator:
        excluded = bindparam(FilterParam.EXCLUDE_CREATOR_ID, type_=user, required=True)
        conditions.append(item.c.creator_id != excluded)
    if flt.search:
        words = func.plainto_tsquery(
            "simple", bindparam(FilterParam.SEARCH, type_=Text, required=True)
        )
        conditions.append(item.c.search_vector.op("@@")(words))
    return conditions


# The ALL and NOT probes look a link up by its whole key in the unique
# ix_content_tags_newest: (tag, source, the item's created_at, item id), one index
# descent per tag, index-only. A correlated subquery keeps the walk: the planner does not
# estimate it from array statistics (testing the item's tag array with a subquery array
# made it leave the walk: ALL 2 2.5 -> 62 ms at full scale).
def excluded(
    source: Source, item_id: Any, created_at: Any, flt: FilterShape
) -> ColumnElement[bool]:
    if not flt.exclude_tags:
        return true()
    probe = _EXCLUDED
    # OFFSET 0 keeps the probe a per-row subplan: pulled up into an anti join, it was
    # free to take ix_content_tags_item and filter the item's ~77 links instead.
    found = (
        select(literal(1))
        .where(
            probe.c.tag_key == any_int(FilterParam.EXCLUDE_TAGS),
            probe.c.source == constant(source),
            probe.c.created_at == created_at,
            probe.c.item_id == item_id,
        )
        .offset(0)
    )
    return ~exists(found)


def probed(
    source: Source, item_id: Any, created_at: Any, keys: str, count: str
) -> ColumnElement[bool]:
    """The item has a link for each of the tag keys in parameter `keys` (`count` of them).

    One descent of the unique index per tag. `item_id + 0` keeps the planner off the
    `(source, item_id)` index, which it took for the small regular source: reading all
    of an item's ~40-77 links to find a few cost 19 us a probe against ~3 us."""
    probe = _REQUIRED
    carried = (
        select(func.count())
        .where(
            probe.c.tag_key == any_int(keys),
            probe.c.source == constant(source),
            probe.c.created_at == created_at,
            probe.c.item_id + 0 == item_id,
        )
        .scalar_subquery()
    )
    return carried == bindparam(count, type_=Integer, required=True)


def probed_first(
    source: Source, item_id: Any, created_at: Any, first: str, keys: str, count: str
) -> ColumnElement[bool]:
    """`probed` with the tag of parameter `first` probed alone before the others: an item
    without it (most of them, for tags that seldom meet) costs one index descent instead
    of one a tag (ALL 5 of the long tail's ranks 20-24, 6,000 postings: 28 -> 13 ms).
    OFFSET 0 keeps the probe a per-row subplan, as in `excluded`."""
    probe = _REQUIRED
    found = (
        select(literal(1))
        .where(
            probe.c.tag_key == bindparam(first, type_=Integer, required=True),
            probe.c.source == constant(source),
            probe.c.created_at == created_at,
            probe.c.item_id + 0 == item_id,
        )
        .offset(0)
    )
    return exists(found) & probed(source, item_id, created_at, keys, count)


def tag_array(flt: FilterShape) -> Any:
    """The filter tags' UUIDs: bound when known, so the planner estimates the array test
    from the column's element statistics (a subquery array gets a fixed ~1% guess that
    made it leave the item walk: one common tag by rating with an exclusion, 3 -> 103 ms
    at full scale)."""
    if flt.tag_ids:
        return bindparam(FilterParam.TAG_IDS, type_=ARRAY(PG_UUID(as_uuid=True)), required=True)
    return (
        select(func.array_agg(tags.c.id)).where(tags.c.tag_key == any_int(FilterParam.TAG_KEYS))
    ).scalar_subquery()


def tag_test(
    test: TagTest, source: Source, row: Any, created_at: Any, flt: FilterShape
) -> ColumnElement[bool]:
    """The filter's tags tested on an item row (`row` has `id` and `tags`)."""
    if test is TagTest.NONE:
        return true()
    if test is TagTest.ANY:
        return row.c.tags.overlap(tag_array(flt))  # type: ignore[no-any-return]
    if test is TagTest.ALL_ARRAY:
        return row.c.tags.contains(tag_array(flt))  # type: ignore[no-any-return]
    return probed(source, row.c.id, created_at, FilterParam.TAG_KEYS, FilterParam.TAG_COUNT)
