"""SQL shapes that select one page of item positions for a filter.

Every shape yields rows (source, id, sort_value) in walk order, limited; all shapes
return the same rows for the same request (the model tests hold them to it).
Each source is its own branch so every walk follows an index whose leading columns
are fixed by equality, and the branches are merged by the outer ORDER BY.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
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
from gallery_gql.db.tables import CONTENT_TABLES, content_tags, tags
from gallery_gql.gallery.filters import ContentFilter, Position, Sort, Source, TagMatch
from gallery_gql.gallery.tag_stats import TagStats

OVERLAP_WALK_MAX_ROWS = 2_000
"""ANY of several tags walks the item table's sort index and tests each row's tag array
when a page is expected within this many rows; otherwise it merges one junction walk per
tag. Per-tag walks cost planning time per branch (ANY 20 = 40 branches: 45 ms at full
scale), and common tags fill a page from the first rows of a single walk."""

RATED_ALL_WALK_CAP = 2_000
"""ALL of several tags by rating walks at most this many item rows (`rated_walk_branch`)."""

RATED_WALK_MAX_ROWS = 5_000
"""By rating (the junction has no quality column), a page walks the item table's quality
index testing the tags when it is expected within this many rows (~2.2 us a row at full
scale), and never walks further; otherwise, or when the walk falls short, every matching
item is read through the tag-array GIN index and sorted (~1.7 us an item). At this
bound both cost ~10 ms (docs/decisions.md)."""


# Built once: an alias proxies every column of its table, a third of a page
# statement's construction time when made per branch.
_POSTING = content_tags.alias("posting")
_REQUIRED = content_tags.alias("required")
_EXCLUDED = content_tags.alias("excluded")


@dataclass(frozen=True)
class Walk:
    """One traversal: the sort, its direction, where to start (exclusive), how many rows."""

    sort: Sort
    descending: bool
    bound: Position | None
    limit: int
    include_bound: bool = False


def _keyset(value_col: Any, id_col: Any, source: Source, walk: Walk) -> ColumnElement[bool]:
    """Rows past `walk.bound` in walk order (the bound itself only with `include_bound`),
    for a branch of one source."""
    bound = walk.bound
    if bound is None:
        return true()
    if walk.descending:
        if source < bound.source:
            return value_col <= bound.value  # type: ignore[no-any-return]
        if source > bound.source:
            return value_col < bound.value  # type: ignore[no-any-return]
        if walk.include_bound:
            return tuple_(value_col, id_col) <= tuple_(literal(bound.value), literal(bound.id))
        return tuple_(value_col, id_col) < tuple_(literal(bound.value), literal(bound.id))
    if source > bound.source:
        return value_col >= bound.value  # type: ignore[no-any-return]
    if source < bound.source:
        return value_col > bound.value  # type: ignore[no-any-return]
    if walk.include_bound:
        return tuple_(value_col, id_col) >= tuple_(literal(bound.value), literal(bound.id))
    return tuple_(value_col, id_col) > tuple_(literal(bound.value), literal(bound.id))


def _order(value_col: Any, id_col: Any, descending: bool) -> list[Any]:
    if descending:
        return [value_col.desc(), id_col.desc()]
    return [value_col.asc(), id_col.asc()]


def _item_conditions(item: Any, flt: ContentFilter) -> list[ColumnElement[bool]]:
    """Privacy, creator and search conditions on an item table row."""
    conditions: list[ColumnElement[bool]] = []
    if flt.viewer_id is None:
        conditions.append(not_(item.c.is_private))
    else:
        conditions.append(or_(not_(item.c.is_private), item.c.creator_id == flt.viewer_id))
    if flt.creator_id is not None:
        conditions.append(item.c.creator_id == flt.creator_id)
    if flt.exclude_creator_id is not None:
        conditions.append(item.c.creator_id != flt.exclude_creator_id)
    if flt.search is not None:
        conditions.append(item.c.search_vector.op("@@")(func.plainto_tsquery("simple", flt.search)))
    return conditions


# The ALL and NOT probes look a link up by its whole key in the unique
# ix_content_tags_newest: (tag, source, the item's created_at, item id), one index
# descent per tag, index-only. A correlated subquery keeps the walk: the planner does not
# estimate it from array statistics (testing the item's tag array with a subquery array
# made it leave the walk: ALL 2 2.5 -> 62 ms at full scale).
def _excluded(
    source: Source, item_id: Any, flt: ContentFilter, created_at: Any
) -> ColumnElement[bool]:
    if not flt.exclude_tag_keys:
        return true()
    probe = _EXCLUDED
    # OFFSET 0 keeps the probe a per-row subplan: pulled up into an anti join, it was
    # free to take ix_content_tags_item and filter the item's ~77 links instead.
    found = (
        select(literal(1))
        .where(
            probe.c.tag_key == any_int("exclude_tags", flt.exclude_tag_keys),
            probe.c.source == int(source),
            probe.c.created_at == created_at,
            probe.c.item_id == item_id,
        )
        .offset(0)
    )
    return ~exists(found)


def _carries_all(
    source: Source, item_id: Any, tag_keys: tuple[int, ...], created_at: Any
) -> ColumnElement[bool]:
    if not tag_keys:
        return true()
    probe = _REQUIRED
    carried = (
        select(func.count())
        .where(
            probe.c.tag_key == any_int(f"other_tags_{int(source)}", tag_keys),
            probe.c.source == int(source),
            probe.c.created_at == created_at,
            probe.c.item_id == item_id,
        )
        .scalar_subquery()
    )
    return carried == len(tag_keys)


def _carries_any(
    item: Any, tag_keys: tuple[int, ...], ids: Mapping[int, UUID] | None = None
) -> ColumnElement[bool]:
    if not tag_keys:
        return true()
    bound = _tag_ids("any_tag_ids", tag_keys, ids)
    if bound is not None:
        return item.c.tags.overlap(bound)  # type: ignore[no-any-return]
    wanted = (
        select(func.array_agg(tags.c.id))
        .where(tags.c.tag_key == any_int("any_tags", tag_keys))
        .scalar_subquery()
    )
    return item.c.tags.overlap(wanted)  # type: ignore[no-any-return]


def _tag_ids(
    name: str, tag_keys: tuple[int, ...], ids: Mapping[int, UUID] | None
) -> BindParameter[Any] | None:
    """The tags' UUIDs as a bound array, when all are known (`TagStats.ids`): planned
    for its value, the array test is estimated from the column's element statistics.
    A subquery array gets a fixed guess (~1% of rows) that made the planner leave the
    item walk for a bitmap and sort (one common tag by rating, with an exclusion,
    3 -> 103 ms at full scale)."""
    if ids is None or any(key not in ids for key in tag_keys):
        return None
    return bindparam(name, [ids[key] for key in tag_keys], type_=ARRAY(PG_UUID(as_uuid=True)))


def items_branch(
    source: Source, flt: ContentFilter, walk: Walk, ids: Mapping[int, UUID] | None = None
) -> Select[Any]:
    """Walk the item table's own sort index; with tags, keep the rows whose tag array
    overlaps them (ANY) or that carry them all (ALL, or one tag of one creator's items:
    see `walks_creator_items`)."""
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    if flt.match is TagMatch.ALL or (walks_creator_items(flt) and len(flt.tag_keys) == 1):
        carried = _carries_all(source, item.c.id, flt.tag_keys, item.c.created_at)
    else:
        carried = _carries_any(item, flt.tag_keys, ids)
    return (
        select(
            literal(int(source)).label("source"),
            item.c.id.label("id"),
            value_col.label("sort_value"),
        )
        .where(
            *_item_conditions(item, flt),
            carried,
            _excluded(source, item.c.id, flt, item.c.created_at),
            _keyset(value_col, item.c.id, source, walk),
        )
        .order_by(*_order(value_col, item.c.id, walk.descending))
        .limit(walk.limit)
    )


def tag_walk_branch(
    source: Source, driver: int, others: tuple[int, ...], flt: ContentFilter, walk: Walk
) -> Select[Any]:
    """Walk one tag's postings in sort order (junction index), probing the other tags."""
    posting = _POSTING
    item = CONTENT_TABLES[source]
    value_col = posting.c[walk.sort.column]
    return (
        select(
            literal(int(source)).label("source"),
            posting.c.item_id.label("id"),
            value_col.label("sort_value"),
        )
        .join(item, item.c.id == posting.c.item_id)
        .where(
            posting.c.tag_key == literal(driver),
            posting.c.source == int(source),
            _keyset(value_col, posting.c.item_id, source, walk),
            _carries_all(source, posting.c.item_id, others, posting.c.created_at),
            _excluded(source, posting.c.item_id, flt, posting.c.created_at),
            *_item_conditions(item, flt),
        )
        .order_by(*_order(value_col, posting.c.item_id, walk.descending))
        .limit(walk.limit)
    )


def rated_walk_branch(
    source: Source, flt: ContentFilter, walk: Walk, ids: Mapping[int, UUID] | None = None
) -> Select[Any]:
    """By rating, ALL of common tags (`walks_items_for_rating`): walk at most
    `RATED_ALL_WALK_CAP` rows of the item table's quality index testing each row's tag
    array; when they do not fill the page, `rated_bitmap_branch` answers instead.

    The cap bounds what the count-based estimate cannot see: tags that rarely meet (ALL
    of a disjoint pair walked every item, 8 s at full scale; capped, 14 ms). The walk is
    a CTE; each side carries a one-time filter on its row count, so the bitmap runs only
    when the walk fell short. One tag or ANY walks uncapped (`items_branch`): the fence
    costs the walk about twice as much a row, and their counts bound the estimate."""
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    scanned = (
        select(item.c.id, item.c.created_at, item.c.tags, value_col)
        .where(*_item_conditions(item, flt), _keyset(value_col, item.c.id, source, walk))
        .order_by(*_order(value_col, item.c.id, walk.descending))
        .limit(RATED_ALL_WALK_CAP)
        .subquery(f"scanned_{int(source)}")
    )
    bound = _tag_ids("all_tag_ids", flt.tag_keys, ids)
    if flt.match is TagMatch.ANY:
        carried = _carries_any(scanned, flt.tag_keys, ids)
    elif bound is not None:  # the row is at hand, and the fence keeps the walk
        carried = scanned.c.tags.contains(bound)
    else:
        carried = _carries_all(source, scanned.c.id, flt.tag_keys, scanned.c.created_at)
    scanned_value = scanned.c[walk.sort.column]
    walked = (
        select(
            literal(int(source)).label("source"),
            scanned.c.id.label("id"),
            scanned_value.label("sort_value"),
        )
        .where(carried, _excluded(source, scanned.c.id, flt, scanned.c.created_at))
        .order_by(*_order(scanned_value, scanned.c.id, walk.descending))
        .limit(walk.limit)
        .cte()  # anonymous: a page and its edge probe share one statement
    )
    filled = select(func.count()).select_from(walked).scalar_subquery() >= walk.limit
    either = union_all(
        select(walked.c.source, walked.c.id, walked.c.sort_value).where(filled),
        rated_bitmap_branch(source, flt, walk, ids).where(~filled),
    ).subquery(f"rated_{int(source)}")
    return select(either.c.source, either.c.id, either.c.sort_value)


def rated_bitmap_branch(
    source: Source, flt: ContentFilter, walk: Walk, ids: Mapping[int, UUID] | None = None
) -> Select[Any]:
    """By rating, for tags too rare for the item walk (`walks_items_for_rating`): every
    item carrying them, found through the GIN index on the item's tag array (`@>` for
    ALL, `&&` for ANY), past the bound, sorted by quality; the first rows.

    OFFSET 0 fences the matching set: with ORDER BY ... LIMIT on top the planner walked
    the quality index testing each item instead (a rare tag then reads every item). The
    junction holds no quality: joining the tag's postings to their items cost ~4 us a
    posting at full scale, this bitmap ~1.7 us an item (docs/decisions.md)."""
    item = CONTENT_TABLES[source]
    if flt.match is TagMatch.ALL:
        bound = _tag_ids("all_tag_ids", flt.tag_keys, ids)
        wanted = (
            select(func.array_agg(tags.c.id))
            .where(tags.c.tag_key == any_int("all_tags", flt.tag_keys))
            .scalar_subquery()
        )
        carried = item.c.tags.contains(wanted if bound is None else bound)
    else:
        carried = _carries_any(item, flt.tag_keys, ids)
    matching = (
        select(item.c.id, item.c.quality_score)
        .where(
            carried,
            *_item_conditions(item, flt),
            _excluded(source, item.c.id, flt, item.c.created_at),
        )
        .offset(0)
        .subquery("matching")
    )
    value_col = matching.c[walk.sort.column]
    return (
        select(
            literal(int(source)).label("source"),
            matching.c.id.label("id"),
            value_col.label("sort_value"),
        )
        .where(_keyset(value_col, matching.c.id, source, walk))
        .order_by(*_order(value_col, matching.c.id, walk.descending))
        .limit(walk.limit)
    )


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


def rated_rows_to_fill(flt: ContentFilter, source: Source, stats: TagStats, limit: int) -> float:
    """Upper estimate of the item rows a walk of the quality index reads to find `limit`
    carrying the tags: ANY as `rows_to_fill`; one tag or ALL by its rarest tag (tags
    assumed independent of the score, and for ALL of each other)."""
    if flt.match is TagMatch.ANY:
        return rows_to_fill(flt, source, stats, limit)
    size = stats.source_items.get(source)
    rare = min((stats.items(key, source) for key in flt.tag_keys), default=0)
    if not size or not rare:
        return math.inf
    return limit * size / rare


def walks_items_for_rating(
    flt: ContentFilter, sort: Sort, source: Source, stats: TagStats, limit: int
) -> bool:
    """Whether a page by rating walks the item table's quality index testing the tags
    (expected to fill within `RATED_WALK_MAX_ROWS`); otherwise the matching items are
    found through the tag-array GIN index and sorted (`rated_bitmap_branch`)."""
    if not flt.tag_keys or sort.column != "quality_score":
        return False
    return rated_rows_to_fill(flt, source, stats, limit) <= RATED_WALK_MAX_ROWS


def walks_creator_items(flt: ContentFilter) -> bool:
    """Whether a tag filter on one creator's items walks that creator's items (its
    `(creator_id, sort)` index) probing each for the tags, instead of a tag's postings.

    A tag walk filtered by creator reads postings until the creator's items fill the page;
    the planner, seeing a selective creator, joins all the tag's postings instead (ME + tag
    67 ms at full scale). With the primary key it drove from the creator's items, probing
    each by (source, item, tag); the probe now needs the item's created_at, which only the
    item side has. Cost: the creator's items up to the page, all of them for a tag the
    creator seldom uses (no per-creator counts to choose by)."""
    return flt.creator_id is not None and bool(flt.tag_keys)


def rated_strategy_name(flt: ContentFilter, stats: TagStats, limit: int, sort: Sort) -> str:
    """The label of a tag filter by rating: which of its two shapes each source takes."""
    names = {
        "item-walk-rated"
        if walks_items_for_any(flt, s, stats, limit)
        or walks_items_for_rating(flt, sort, s, stats, limit)
        else "tag-array-bitmap"
        for s in flt.sources
    }
    return "+".join(sorted(names))


def strategy_name(flt: ContentFilter, stats: TagStats, limit: int, sort: Sort = Sort.NEWEST) -> str:
    """A label for the SQL shape a filter gets (metrics and benchmarks)."""
    if not flt.tag_keys:
        return "sort-index-walk"
    if walks_creator_items(flt):
        return "creator-walk"
    if sort.column == "quality_score":
        return rated_strategy_name(flt, stats, limit, sort)
    if flt.match is TagMatch.ALL and len(flt.tag_keys) > 1:
        return "rarest-tag-walk"
    names = sorted(
        {
            "item-walk-overlap" if walks_items_for_any(flt, s, stats, limit) else "tag-walk-merge"
            for s in flt.sources
        }
    )
    return "+".join(names)


def branches(flt: ContentFilter, walk: Walk, stats: TagStats) -> list[Select[Any]]:
    """The per-source (and, for ANY, per-tag) walks whose merge is the page."""
    out: list[Select[Any]] = []
    for source in flt.sources:
        if (
            not flt.tag_keys
            or walks_creator_items(flt)
            or walks_items_for_any(flt, source, stats, walk.limit)
        ):
            out.append(items_branch(source, flt, walk, stats.ids))
        elif walks_items_for_rating(flt, walk.sort, source, stats, walk.limit):
            if flt.match is TagMatch.ALL:
                out.append(rated_walk_branch(source, flt, walk, stats.ids))
            else:
                out.append(items_branch(source, flt, walk, stats.ids))
        elif walk.sort.column == "quality_score":
            out.append(rated_bitmap_branch(source, flt, walk, stats.ids))
        elif flt.match is TagMatch.ALL:
            driver = rarest(flt.tag_keys, source, stats)
            others = tuple(key for key in flt.tag_keys if key != driver)
            out.append(tag_walk_branch(source, driver, others, flt, walk))
        else:
            # An excluded tag can never select an item: walking it would only filter.
            wanted = [key for key in flt.tag_keys if key not in flt.exclude_tag_keys]
            out.extend(tag_walk_branch(source, key, (), flt, walk) for key in wanted)
    return out


def page_keys(flt: ContentFilter, walk: Walk, stats: TagStats) -> Select[Any] | None:
    """The merged walk: (source, id, sort_value) in walk order, at most `walk.limit` rows;
    None when nothing can match."""
    parts = branches(flt, walk, stats)
    if not parts:
        return None
    merged: Subquery = union_all(*(part.subquery().select() for part in parts)).subquery("u")
    cols = (merged.c.sort_value, merged.c.source, merged.c.id)
    order = [c.desc() if walk.descending else c.asc() for c in cols]
    stmt = select(merged.c.source, merged.c.id, merged.c.sort_value)
    if len(parts) > len(flt.sources):  # per-tag walks of one source can meet an item twice
        stmt = stmt.distinct()
    return stmt.order_by(*order).limit(walk.limit)
