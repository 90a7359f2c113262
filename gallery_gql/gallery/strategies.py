"""SQL shapes that select one page of item positions for a filter.

Every shape yields rows (source, id, sort_value) in walk order, limited; all shapes
return the same rows for the same request (the model tests hold them to it).
Each source is its own branch so every walk follows an index whose leading columns
are fixed by equality, and the branches are merged by the outer ORDER BY.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
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
from gallery_gql.db.tables import CONTENT_TABLES, content_tags, tags
from gallery_gql.gallery.filters import ContentFilter, Position, Sort, Source, TagMatch
from gallery_gql.gallery.tag_stats import TagStats

OVERLAP_WALK_MAX_ROWS = 2_000
"""ANY of several tags walks the item table's sort index and tests each row's tag array
when a page is expected within this many rows; otherwise it merges one junction walk per
tag. Per-tag walks cost planning time per branch (ANY 20 = 40 branches: 45 ms at full
scale), and common tags fill a page from the first rows of a single walk."""


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


def _excluded(source: Source, item_id: Any, flt: ContentFilter) -> ColumnElement[bool]:
    if not flt.exclude_tag_keys:
        return true()
    probe = _EXCLUDED
    return ~exists().where(
        probe.c.source == int(source),
        probe.c.item_id == item_id,
        probe.c.tag_key == any_int("exclude_tags", flt.exclude_tag_keys),
    )


def _carries_all(source: Source, item_id: Any, tag_keys: tuple[int, ...]) -> ColumnElement[bool]:
    if not tag_keys:
        return true()
    probe = _REQUIRED
    carried = (
        select(func.count())
        .where(
            probe.c.source == int(source),
            probe.c.item_id == item_id,
            probe.c.tag_key == any_int(f"other_tags_{int(source)}", tag_keys),
        )
        .scalar_subquery()
    )
    return carried == len(tag_keys)


def _carries_any(item: Any, tag_keys: tuple[int, ...]) -> ColumnElement[bool]:
    if not tag_keys:
        return true()
    wanted = (
        select(func.array_agg(tags.c.id))
        .where(tags.c.tag_key == any_int("any_tags", tag_keys))
        .scalar_subquery()
    )
    return item.c.tags.overlap(wanted)  # type: ignore[no-any-return]


def items_branch(source: Source, flt: ContentFilter, walk: Walk) -> Select[Any]:
    """Walk the item table's own sort index; with tags (ANY), keep the rows whose tag
    array overlaps them."""
    item = CONTENT_TABLES[source]
    value_col = item.c[walk.sort.column]
    return (
        select(
            literal(int(source)).label("source"),
            item.c.id.label("id"),
            value_col.label("sort_value"),
        )
        .where(
            *_item_conditions(item, flt),
            _carries_any(item, flt.tag_keys),
            _excluded(source, item.c.id, flt),
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
            _carries_all(source, posting.c.item_id, others),
            _excluded(source, posting.c.item_id, flt),
            *_item_conditions(item, flt),
        )
        .order_by(*_order(value_col, posting.c.item_id, walk.descending))
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


def branches(flt: ContentFilter, walk: Walk, stats: TagStats) -> list[Select[Any]]:
    """The per-source (and, for ANY, per-tag) walks whose merge is the page."""
    out: list[Select[Any]] = []
    for source in flt.sources:
        if not flt.tag_keys or walks_items_for_any(flt, source, stats, walk.limit):
            out.append(items_branch(source, flt, walk))
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
