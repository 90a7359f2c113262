"""Which of some items each of many filters selects: live subscriptions (gallery/live/)
ask it of every batch of written items, for all their distinct filters at once.

The conditions are the read path's own (`conditions.py`: privacy, creator, collections,
search, the tag tests, the exclusion probe) on the item rows, restricted to the written
items' ids, so an item matches exactly when a page of the same filter could show it. A
statement holds up to `FILTERS_PER_STATEMENT` filters, each filter's bind parameters
renamed with its position (`f<i>_viewer_id`, ...), and is built once per tuple of filter
shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from gallery_gql.db.params import any_int
from gallery_gql.db.raw import fetch_rows
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.query.conditions import excluded, item_conditions, tag_test
from gallery_gql.gallery.query.filters import ContentFilter, TagMatch, Whose
from gallery_gql.gallery.query.plan import filter_params, filter_shape
from gallery_gql.gallery.query.shapes import FilterParam, FilterShape, TagTest
from gallery_gql.gallery.query.tag_stats import TagStats

FILTERS_PER_STATEMENT = 32
_NO_STATS = TagStats()  # tag arrays are tested against the tags' keys, looked up in SQL
_FILTER_PARAMS = frozenset(name.value for name in FilterParam)


def _ids_param(source: Source) -> str:
    return f"ids_{int(source)}"


@dataclass(frozen=True)
class MatchShape:
    """A filter's conditions, as the statement sees them (values are parameters)."""

    filter: FilterShape
    branches: tuple[tuple[Source, Whose, TagTest], ...]


def match_shape(flt: ContentFilter) -> MatchShape:
    shape = replace(filter_shape(flt, _NO_STATS), tag_ids=False)
    if not flt.tag_keys:
        test = TagTest.NONE
    elif flt.match is TagMatch.ALL:
        test = TagTest.ALL_PROBES
    else:
        test = TagTest.ANY
    branches = tuple((source, flt.whose(source) or Whose.ANYONE, test) for source in flt.sources)
    return MatchShape(shape, branches)


def _renamed(prefix: str) -> Any:
    def rename(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in _FILTER_PARAMS:
            return bindparam(prefix + element.key, type_=element.type, required=True)
        return None

    return rename


@lru_cache(maxsize=1024)
def _filter_select(shape: MatchShape, index: int) -> Select[Any]:
    """(filter, source, id) of the written items the filter at `index` selects."""
    flt = shape.filter
    parts = []
    for source, whose, test in shape.branches:
        item = CONTENT_TABLES[source]
        parts.append(
            select(
                literal(index).label("filter"), literal(int(source)).label("source"), item.c.id
            ).where(
                item.c.id == any_int(_ids_param(source)),
                *item_conditions(item, flt, whose),
                tag_test(test, source, item, item.c.created_at, flt),
                excluded(source, item.c.id, item.c.created_at, flt),
            )
        )
    stmt = parts[0] if len(parts) == 1 else union_all(*parts).subquery().select()
    return cast("Select[Any]", replacement_traverse(stmt, {}, _renamed(f"f{index}_")))


@lru_cache(maxsize=256)
def _statement(shapes: tuple[MatchShape, ...]) -> Select[Any]:
    parts = [_filter_select(shape, index).subquery().select() for index, shape in enumerate(shapes)]
    if len(parts) == 1:
        return parts[0]
    return union_all(*parts).subquery().select()


async def matching_items(
    conn: AsyncConnection, filters: Sequence[ContentFilter], keys: Sequence[ItemKey]
) -> list[set[ItemKey]]:
    """For each filter, which of `keys` it selects now (a statement per
    FILTERS_PER_STATEMENT filters that can select anything)."""
    found: list[set[ItemKey]] = [set() for _ in filters]
    live = [i for i, flt in enumerate(filters) if not flt.matches_nothing and flt.sources]
    if not keys:
        return found
    ids = {
        _ids_param(source): sorted({key.id for key in keys if key.source is source})
        for source in Source
    }
    for start in range(0, len(live), FILTERS_PER_STATEMENT):
        chunk = live[start : start + FILTERS_PER_STATEMENT]
        shapes = []
        params: dict[str, Any] = dict(ids)
        for position, index in enumerate(chunk):
            flt = filters[index]
            shape = match_shape(flt)
            shapes.append(shape)
            for name, value in filter_params(flt, _NO_STATS, shape.filter).items():
                params[f"f{position}_{name}"] = value
        for row in await fetch_rows(conn, _statement(tuple(shapes)), params):
            found[chunk[row["filter"]]].add(ItemKey(Source(row["source"]), row["id"]))
    return found
