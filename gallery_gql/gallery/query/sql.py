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
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import CTE, Subquery

from gallery_gql.db.engine import STATEMENT_CACHE_SIZE
from gallery_gql.db.raw import Plan
from gallery_gql.db.tables import CONTENT_TABLES, ITEM_READ_COLUMNS, content_tags
from gallery_gql.gallery.query.conditions import (
    constant,
    excluded,
    item_conditions,
    keyset,
    limit_of,
    order_by,
    probed,
    probed_first,
    tag_test,
    walked_columns,
)
from gallery_gql.gallery.query.shapes import (
    BranchKind,
    BranchShape,
    TagTest,
    WalkParam,
    WalkShape,
    param,
)

SHAPES_CACHED = STATEMENT_CACHE_SIZE // 2
"""Distinct page shapes kept (sources, strategy per source, sort, direction, bound,
optional filters); SQLAlchemy's compiled cache holds them and the other statements."""

ITEM_DATA_COLUMNS = tuple(name for name in ITEM_READ_COLUMNS if name != "id")


def whole_item_columns(item_tags: bool) -> frozenset[str]:
    """Every item column a page reads for whole items: the tag array (~77 UUIDs an item,
    most of the decoding) only with `item_tags`."""
    return _WITH_TAGS if item_tags else _WITHOUT_TAGS


_WITH_TAGS = frozenset(ITEM_DATA_COLUMNS)
_WITHOUT_TAGS = _WITH_TAGS - {"tags"}


def item_data_columns(columns: frozenset[str]) -> tuple[str, ...]:
    """The items' columns a page statement reads, `columns`, in table order."""
    return tuple(name for name in ITEM_DATA_COLUMNS if name in columns)


# Built once: an alias proxies every column of its table.
_POSTING = content_tags.alias("posting")


def _items_branch(walk: WalkShape, branch: BranchShape) -> Select[Any]:
    """Walk the item table's own sort index (a creator's items through its creator
    index); with tags, keep the rows that carry them (see TagTest)."""
    source = branch.source
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    return (
        select(*walked_columns(source, item.c.id, value_col))
        .where(
            *item_conditions(item, walk.filter, branch.whose),
            tag_test(branch.tags, source, item, item.c.created_at, walk.filter),
            excluded(source, item.c.id, item.c.created_at, walk.filter),
            keyset(value_col, item.c.id, source, walk),
        )
        .order_by(*order_by(value_col, item.c.id, walk.descending))
        .limit(limit_of(walk))
    )


def _postings_branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    """Walk one tag's postings in sort order (junction index), probing the other tags."""
    source = branch.source
    driver = bindparam(param(walk.name, WalkParam.DRIVER, index), type_=Integer, required=True)
    others = (
        probed(
            source,
            _POSTING.c.item_id,
            _POSTING.c.created_at,
            param(walk.name, WalkParam.OTHERS, index),
            param(walk.name, WalkParam.OTHERS_COUNT, index),
        )
        if branch.probes_others
        else true()
    )
    return _tag_walk(walk, branch, driver, others)


def _each_tag_postings_branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    """ANY of several tags: for each tag of the `keys` parameter, a walk of its postings
    (as `_postings_branch`), run by a LATERAL join over the keys. One branch whatever the
    number of tags: planning 40 per-tag branches (ANY 20, two sources) cost ~4 ms of a
    page's ~8 ms on the long-tail profile (docs/decisions.md)."""
    keys_param = bindparam(
        param(walk.name, WalkParam.KEYS, index), type_=ARRAY(Integer), required=True
    )
    keys = func.unnest(keys_param).table_valued("tag_key").render_derived(f"walked_tags_{index}")
    per_tag = _tag_walk(walk, branch, keys.c.tag_key, true()).lateral(f"each_tag_{index}")
    return select(per_tag.c.source, per_tag.c.id, per_tag.c.sort_value).select_from(
        keys.join(per_tag, true())
    )


def _tag_walk(walk: WalkShape, branch: BranchShape, tag_key: Any, others: Any) -> Select[Any]:
    """The postings of `tag_key` in the branch's source, in sort order past the bound,
    whose items pass `others` and the filter's conditions; the first rows."""
    source = branch.source
    posting = _POSTING
    item = CONTENT_TABLES[source]
    value_col = posting.c[walk.sort.column]
    return (
        select(*walked_columns(source, posting.c.item_id, value_col))
        .join(item, item.c.id == posting.c.item_id)
        .where(
            posting.c.tag_key == tag_key,
            posting.c.source == constant(source),
            keyset(value_col, posting.c.item_id, source, walk),
            others,
            excluded(source, posting.c.item_id, posting.c.created_at, walk.filter),
            *item_conditions(item, walk.filter, branch.whose),
        )
        .order_by(*order_by(value_col, posting.c.item_id, walk.descending))
        .limit(limit_of(walk))
    )


def _bitmap_branch(walk: WalkShape, branch: BranchShape, test: TagTest) -> Select[Any]:
    """Every item carrying the tags, found through the GIN index on the item's tag array
    (`@>` for ALL, `&&` for ANY), past the bound, sorted; the first rows. By rating, for
    tags too rare for the item walk; and where a capped walk fell short.

    OFFSET 0 fences the matching set: with ORDER BY ... LIMIT on top the planner walked
    the sort index testing each item instead (a rare tag then reads every item). The
    junction holds no quality: joining the tag's postings to their items cost ~4 us a
    posting at full scale, this bitmap ~1.7 us an item (docs/decisions.md)."""
    source = branch.source
    item = CONTENT_TABLES[source]
    matching = (
        select(item.c.id, item.c[walk.sort.column])
        .where(
            tag_test(test, source, item, item.c.created_at, walk.filter),
            *item_conditions(item, walk.filter, branch.whose),
            excluded(source, item.c.id, item.c.created_at, walk.filter),
        )
        .offset(0)
        .subquery("matching")
    )
    value_col = matching.c[walk.sort.column]
    return (
        select(*walked_columns(source, matching.c.id, value_col))
        .where(keyset(value_col, matching.c.id, source, walk))
        .order_by(*order_by(value_col, matching.c.id, walk.descending))
        .limit(limit_of(walk))
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
    cap = bindparam(param(walk.name, WalkParam.CAP, index), type_=Integer, required=True)
    scanned = (
        select(item.c.id, item.c.created_at, item.c.tags, value_col)
        .where(
            *item_conditions(item, walk.filter, branch.whose),
            keyset(value_col, item.c.id, source, walk),
        )
        .order_by(*order_by(value_col, item.c.id, walk.descending))
        .limit(cap)
        .subquery(f"scanned_{int(source)}")
    )
    scanned_value = scanned.c[walk.sort.column]
    walked = (
        select(*walked_columns(source, scanned.c.id, scanned_value))
        .where(
            tag_test(branch.tags, source, scanned, scanned.c.created_at, walk.filter),
            excluded(source, scanned.c.id, scanned.c.created_at, walk.filter),
        )
        .order_by(*order_by(scanned_value, scanned.c.id, walk.descending))
        .limit(limit_of(walk))
        .cte()  # anonymous: a page and its edge probe share one statement
    )
    return _walked_or_bitmap(walk, branch, walked)


def _capped_postings_branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    """ALL by date: walk at most the `cap` parameter's postings of the rarest tag, probing
    the others (with `probes_first`, the one least likely found first, alone); when they
    do not fill the page, the bitmap branch answers instead (`plan_rules.all_walk_cap`). As
    `_rated_walk_branch`, the walk is a CTE and each side carries a one-time filter on
    its row count."""
    source = branch.source
    item = CONTENT_TABLES[source]
    value_col = _POSTING.c[walk.sort.column]
    driver = bindparam(param(walk.name, WalkParam.DRIVER, index), type_=Integer, required=True)
    cap = bindparam(param(walk.name, WalkParam.CAP, index), type_=Integer, required=True)
    scanned = (
        select(_POSTING.c.item_id, value_col)
        .where(
            _POSTING.c.tag_key == driver,
            _POSTING.c.source == constant(source),
            keyset(value_col, _POSTING.c.item_id, source, walk),
        )
        .order_by(*order_by(value_col, _POSTING.c.item_id, walk.descending))
        .limit(cap)
        .subquery(f"scanned_{int(source)}")
    )
    scanned_value = scanned.c[walk.sort.column]
    others = (
        param(walk.name, WalkParam.OTHERS, index),
        param(walk.name, WalkParam.OTHERS_COUNT, index),
    )
    at = (source, scanned.c.item_id, scanned.c.created_at)
    if branch.probes_first:
        carried = probed_first(*at, param(walk.name, WalkParam.FIRST, index), *others)
    else:
        carried = probed(*at, *others)
    walked = (
        select(*walked_columns(source, scanned.c.item_id, scanned_value))
        .join(item, item.c.id == scanned.c.item_id)
        .where(
            carried,
            excluded(source, scanned.c.item_id, scanned.c.created_at, walk.filter),
            *item_conditions(item, walk.filter, branch.whose),
        )
        .order_by(*order_by(scanned_value, scanned.c.item_id, walk.descending))
        .limit(limit_of(walk))
        .cte()  # anonymous: a page and its edge probe share one statement
    )
    return _walked_or_bitmap(walk, branch, walked)


def _walked_or_bitmap(walk: WalkShape, branch: BranchShape, walked: CTE) -> Select[Any]:
    """The capped walk's rows when they fill the page, else the bitmap branch's."""
    filled = select(func.count()).select_from(walked).scalar_subquery() >= limit_of(walk)
    either = union_all(
        select(walked.c.source, walked.c.id, walked.c.sort_value).where(filled),
        _bitmap_branch(walk, branch, TagTest.ALL_ARRAY).where(~filled),
    ).subquery(f"walked_or_bitmap_{int(branch.source)}")
    return select(either.c.source, either.c.id, either.c.sort_value)


def _branch(walk: WalkShape, index: int, branch: BranchShape) -> Select[Any]:
    if branch.kind is BranchKind.ITEMS:
        return _items_branch(walk, branch)
    if branch.kind is BranchKind.POSTINGS:
        return _postings_branch(walk, index, branch)
    if branch.kind is BranchKind.EACH_TAG_POSTINGS:
        return _each_tag_postings_branch(walk, index, branch)
    if branch.kind is BranchKind.CAPPED_POSTINGS:
        return _capped_postings_branch(walk, index, branch)
    if branch.kind is BranchKind.RATED_WALK:
        return _rated_walk_branch(walk, index, branch)
    return _bitmap_branch(walk, branch, branch.tags)


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
        limit_of(walk)
    )


def _tagged(part: str, stmt: Select[Any]) -> Select[Any]:
    sub = stmt.subquery()
    tag = literal_column(f"'{part}'", String).label("part")  # "page" or "probe"
    return select(tag, sub.c.source, sub.c.id, sub.c.sort_value)


def _with_items(walked: Subquery, names: tuple[str, ...]) -> Select[Any]:
    """The walked rows with their items' columns `names`, read in the same statement (and
    snapshot): one join per source, each column taken from the row's own source."""
    joined: Any = walked
    tables = {
        source: table.alias(f"item_{int(source)}") for source, table in CONTENT_TABLES.items()
    }
    for source, table in tables.items():
        on = and_(walked.c.source == constant(source), table.c.id == walked.c.id)
        joined = joined.outerjoin(table, on)
    columns = [
        case(
            *(
                (walked.c.source == constant(source), table.c[name])
                for source, table in tables.items()
            )
        ).label(name)
        for name in names
    ]
    return select(walked, *columns).select_from(joined)


_PLANNED_ONCE = frozenset(
    {BranchKind.POSTINGS, BranchKind.EACH_TAG_POSTINGS, BranchKind.CAPPED_POSTINGS}
)
"""Branches walking the junction's postings: their SQL fixes their plan once their limits
are written into it (`conditions.limit_of`)."""


def walks_plan(page: WalkShape, probe: WalkShape | None) -> Plan:
    """How the walks' statement is planned (`db/raw.Plan`): once per session on a session
    kept in generic mode when one is to be had (else custom) when every branch walks
    postings, or an item table's date index on a first page; what the values would change
    (which tags' postings, how far) the counts chose already. Planning custom costs
    0.2-1.1 ms a page, generic 0.005-0.06, executing the same within 0.2 ms
    (`scripts/page_plans.py --sweep`, both profiles at full scale, docs/decisions.md).
    Custom for the rest: an item-table walk past a bound (generic 7-58 ms against
    0.2-2.1) or by rating (1.3-2x slower from the first page), a bitmap branch among
    walks, excluded tags (genonaut: 8.5 ms against 1.6), a search (its words' index)."""
    if page.filter.search or page.filter.exclude_tags:
        return Plan.CUSTOM
    by_date = page.sort.column == "created_at"
    for walk in (page, probe) if probe is not None else (page,):
        for branch in walk.branches:
            first_dated_page = (
                branch.kind is BranchKind.ITEMS and walk.bound_source is None and by_date
            )
            if branch.kind not in _PLANNED_ONCE and not first_dated_page:
                return Plan.CUSTOM
    return Plan.GENERIC_IF_KEPT


@lru_cache(maxsize=SHAPES_CACHED)
def page_statement(
    page: WalkShape,
    probe: WalkShape | None,
    columns: frozenset[str],
) -> Select[Any]:
    """The page's walk, and with a bound the probe across it, as one statement of rows
    (part, source, id, sort_value, the item's `columns`: `item_data_columns`); `page` must
    have branches."""
    names = item_data_columns(columns)
    main = walk_statement(page)
    assert main is not None, "a page without branches has no statement"
    across = walk_statement(probe) if probe is not None else None
    if across is None:
        return _with_items(_tagged("page", main).subquery("walked"), names)
    walked = union_all(_tagged("page", main), _tagged("probe", across))
    return _with_items(walked.subquery("walked"), names)


@lru_cache(maxsize=SHAPES_CACHED)
def count_statement(walk: WalkShape) -> Select[Any] | None:
    """How many rows the walk yields (up to its limit)."""
    stmt = walk_statement(walk)
    if stmt is None:
        return None
    return select(func.count()).select_from(stmt.subquery())
