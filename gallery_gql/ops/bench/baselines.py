"""Genonaut's two approaches (the system gallery-gql replaces), as it ran them, for
side-by-side timing: the tag array filtered with `@>`/`&&` inside each UNION branch (left
to the planner), and the junction `GROUP BY … HAVING count(*) = k`. Both page by OFFSET,
as it did, and return the page's items with the columns our page statement reads (the
tag arrays only when the class asks for tag names), so both sides decode the same rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextClause, text

from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.gallery.query.sql import ITEM_DATA_COLUMNS
from gallery_gql.ops.bench.classes import QueryClass

_TABLES = (("0", "content_items"), ("1", "content_items_auto"))


def _columns(query: QueryClass, alias: str = "") -> str:
    """The item columns a page of the class reads besides (source, id)."""
    names = (name for name in ITEM_DATA_COLUMNS if query.tag_names or name != "tags")
    return ", ".join(f"{alias}{name}" for name in names)


def _order(sort: Sort, alias: str = "") -> str:
    direction = "DESC" if sort.descending else "ASC"
    return ", ".join(f"{alias}{column} {direction}" for column in (sort.column, "source", "id"))


def array_union(query: QueryClass) -> TextClause:
    operator = "@>" if query.match is TagMatch.ALL else "&&"
    conditions = ["NOT is_private"]
    if query.tags:
        conditions.append(f"tags {operator} CAST(:tag_ids AS uuid[])")
    if query.exclude:
        conditions.append("NOT tags && CAST(:exclude_ids AS uuid[])")
    where = " AND ".join(conditions)
    branches = " UNION ALL ".join(
        f"SELECT {source} AS source, id, {_columns(query)} FROM {table} WHERE {where}"
        for source, table in _TABLES
    )
    return text(
        f"SELECT * FROM ({branches}) u ORDER BY {_order(query.sort)} OFFSET :offset LIMIT :size"
    )


def junction_group_by(query: QueryClass) -> TextClause:
    needed = len(query.tags) if query.match is TagMatch.ALL else 1
    exclude = ""
    if query.exclude:
        exclude = (
            "AND NOT EXISTS (SELECT 1 FROM content_tags x WHERE x.source = m.source"
            " AND x.item_id = m.item_id AND x.tag_key = ANY(CAST(:exclude AS int[])))"
        )
    items = " UNION ALL ".join(
        f"SELECT {source} AS source, id, {_columns(query)} FROM {table}"
        for source, table in _TABLES
    )
    return text(
        f"SELECT i.source, i.id, {_columns(query, 'i.')}"
        " FROM (SELECT source, item_id FROM content_tags"
        " WHERE tag_key = ANY(CAST(:tags AS int[])) GROUP BY source, item_id"
        f" HAVING count(*) >= {needed}) m"
        f" JOIN ({items}) i ON i.source = m.source AND i.id = m.item_id"
        f" WHERE NOT i.is_private {exclude}"
        f" ORDER BY {_order(query.sort, 'i.')}"
        " OFFSET :offset LIMIT :size"
    )


def parameters(query: QueryClass, tag_ids: dict[int, str]) -> dict[str, Any]:
    return {
        "tag_ids": [tag_ids[key] for key in query.tags],
        "exclude_ids": [tag_ids[key] for key in query.exclude],
        "tags": list(query.tags),
        "exclude": list(query.exclude),
        "offset": (query.page - 1) * query.size,
        "size": query.size,
    }
