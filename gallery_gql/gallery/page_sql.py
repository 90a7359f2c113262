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
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.sql.expression import Subquery

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import CONTENT_TABLES, ITEM_COLUMNS, content_tags, tags
from gallery_gql.gallery.filters import Source
from gallery_gql.gallery.page_plan import (
    BranchKind,
    BranchShape,
    FilterShape,
    TagTest,
    WalkShape,
    param,
)

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


def _walked(source: Source, id_col: Any, value_col: Any) -> list[Any]:
    """The columns every branch yields: (source, id, sort_value)."""
    return [literal(int(source)).label("source"), id_col.label("id"), value_col.label("sort_value")]


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


# The ALL and NOT probes look a link up by its whole key in the unique
# ix_content_tags_newest: (tag, source, the item's created_at, item id), one index
# descent per tag, index-only. A correlated subquery keeps the walk: the planner does not
# estimate it from array statistics (testing the item's tag array with a subquery array
# made it leave the walk: ALL 2 2.5 -> 62 ms at full scale).
def _excluded(
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
            probe.c.tag_key == any_int("exclude_tags"),
            probe.c.source == int(source),
            probe.c.created_at == created_at,
            probe.c.item_id == item_id,
        )
        .offset(0)
    )
    return ~exists(found)


def _probed(
    source: Source, item_id: Any, created_at: Any, keys: str, count: str
) -> ColumnElement[bool]:
    """The item has a link for each of the tag keys in parameter `keys` (`count` of them)."""
    probe = _REQUIRED
    carried = (
        select(func.count())
        .where(
            probe.c.tag_key == any_int(keys),
            probe.c.source == int(source),
            probe.c.created_at == created_at,
            probe.c.item_id == item_id,
        )
        .scalar_subquery()
    )
    return carried == bindparam(count, type_=Integer, required=True)


def _tag_array(flt: FilterShape) -> Any:
    """The filter tags' UUIDs: bound when known, so the planner estimates the array test
    from the column's element statistics (a subquery array gets a fixed ~1% guess that
    made it leave the item walk: one common tag by rating with an exclusion, 3 -> 103 ms
    at full scale)."""
    if flt.tag_ids:
        return bindparam("tag_ids", type_=ARRAY(PG_UUID(as_uuid=True)), required=True)
    return (
        select(func.array_agg(tags.c.id)).where(tags.c.tag_key == any_int("tag_keys"))
    ).scalar_subquery()


def _tag_test(
    test: TagTest, source: Source, row: Any, created_at: Any, flt: FilterShape
) -> ColumnElement[bool]:
    """The filter's tags tested on an item row (`row` has `id` and `tags`)."""
    if test is TagTest.NONE:
        return true()
    if test is TagTest.ANY:
        return row.c.tags.overlap(_tag_array(flt))  # type: ignore[no-any-return]
    if test is TagTest.ALL_ARRAY:
        return row.c.tags.contains(_tag_array(flt))  # type: ignore[no-any-return]
    return _probed(source, row.c.id, created_at, "tag_keys", "tag_count")


def _items_branch(walk: WalkShape, branch: BranchShape) -> Select[Any]:
    """Walk the item table's own sort index (a creator's items through its creator
    index); with tags, keep the rows that carry them (see TagTest)."""
    source = branch.source
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    return (
        select(*_walked(source, item.c.id, value_col))
        .where(
            *_item_conditions(item, walk.filter),
            _tag_test(branch.tags, source, item, item.c.created_at, walk.filter),
            _excluded(source, item.c.id, item.c.created_at, walk.filter),
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
    others = (
        _probed(
            source,
            posting.c.item_id,
            posting.c.created_at,
            param(walk.name, "others", index),
            param(walk.name, "others_count", index),
        )
        if branch.probes_others
        else true()
    )
    return (
        select(*_walked(source, posting.c.item_id, value_col))
        .join(item, item.c.id == posting.c.item_id)
        .where(
            posting.c.tag_key == driver,
            posting.c.source == int(source),
            _keyset(value_col, posting.c.item_id, source, walk),
            others,
            _excluded(source, posting.c.item_id, posting.c.created_at, walk.filter),
            *_item_conditions(item, walk.filter),
        )
        .order_by(*_order(value_col, posting.c.item_id, walk.descending))
        .limit(_limit(walk))
    )


def _rated_bitmap_branch(walk: WalkShape, branch: BranchShape, test: TagTest) -> Select[Any]:
    """By rating, for tags too rare for the item walk: every item carrying them, found
    through the GIN index on the item's tag array (`@>` for ALL, `&&` for ANY), past the
    bound, sorted by quality; the first rows.

    OFFSET 0 fences the matching set: with ORDER BY ... LIMIT on top the planner walked
    the quality index testing each item instead (a rare tag then reads every item). The
    junction holds no quality: joining the tag's postings to their items cost ~4 us a
    posting at full scale, this bitmap ~1.7 us an item (docs/decisions.md)."""
    source = branch.source
    item = CONTENT_TABLES[source]
    matching = (
        select(item.c.id, item.c.quality_score)
        .where(
            _tag_test(test, source, item, item.c.created_at, walk.filter),
            *_item_conditions(item, walk.filter),
            _excluded(source, item.c.id, item.c.created_at, walk.filter),
        )
        .offset(0)
        .subquery("matching")
    )
    value_col = matching.c[walk.sort.column]
    return (
        select(*_walked(source, matching.c.id, value_col))
        .where(_keyset(value_col, matching.c.id, source, walk))
        .order_by(*_order(value_col, matching.c.id, walk.descending))
        .limit(_limit(walk))
    )


def _rated_walk_branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    """By rating, ALL of common tags: walk at most the `cap` parameter's rows of the item
    table's quality index testing each row's tag array; when they do not fill the page,
    the bitmap branch answers instead.

    The cap bounds what the count-based estimate cannot see: tags that rarely meet (ALL
    of a disjoint pair walked every item, 8 s at full scale; capped, 14 ms). The walk is
    a CTE; each side carries a one-time filter on its row count, so the bitmap runs only
    when the walk fell short. One tag or ANY walks uncapped (the items branch): the fence
    costs the walk about twice as much a row, and their counts bound the estimate."""
    source = branch.source
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    cap = bindparam(param(walk.name, "cap", index), type_=Integer, required=True)
    scanned = (
        select(item.c.id, item.c.created_at, item.c.tags, value_col)
        .where(*_item_conditions(item, walk.filter), _keyset(value_col, item.c.id, source, walk))
        .order_by(*_order(value_col, item.c.id, walk.descending))
        .limit(cap)
        .subquery(f"scanned_{int(source)}")
    )
    scanned_value = scanned.c[walk.sort.column]
    walked = (
        select(*_walked(source, scanned.c.id, scanned_value))
        .where(
            _tag_test(branch.tags, source, scanned, scanned.c.created_at, walk.filter),
            _excluded(source, scanned.c.id, scanned.c.created_at, walk.filter),
        )
        .order_by(*_order(scanned_value, scanned.c.id, walk.descending))
        .limit(_limit(walk))
        .cte()  # anonymous: a page and its edge probe share one statement
    )
    filled = select(func.count()).select_from(walked).scalar_subquery() >= _limit(walk)
    either = union_all(
        select(walked.c.source, walked.c.id, walked.c.sort_value).where(filled),
        _rated_bitmap_branch(walk, branch, TagTest.ALL_ARRAY).where(~filled),
    ).subquery(f"rated_{int(source)}")
    return select(either.c.source, either.c.id, either.c.sort_value)


def _branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    if branch.kind is BranchKind.ITEMS:
        return _items_branch(walk, branch)
    if branch.kind is BranchKind.POSTINGS:
        return _postings_branch(walk, index, branch)
    if branch.kind is BranchKind.RATED_WALK:
        return _rated_walk_branch(walk, index, branch)
    return _rated_bitmap_branch(walk, branch, branch.tags)


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
