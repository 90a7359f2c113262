"""Runs a page request: one statement for the page and, with a cursor, the edge probe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.gallery.filters import ContentFilter, PageRequest, Position, Sort, Source
from gallery_gql.gallery.strategies import Walk, page_keys
from gallery_gql.gallery.tag_stats import TagStats


@dataclass(frozen=True)
class Page:
    positions: list[Position]
    has_next: bool
    has_previous: bool


def _tagged(part: str, stmt: Select[Any]) -> Select[Any]:
    sub = stmt.subquery()
    return select(literal(part).label("part"), sub.c.source, sub.c.id, sub.c.sort_value)


async def fetch_page(
    conn: AsyncConnection,
    flt: ContentFilter,
    sort: Sort,
    request: PageRequest,
    stats: TagStats,
) -> Page:
    """The page in sort order. Forward pages walk from `after`; backward pages walk the
    reverse order from `before` and are flipped. The probe looks back across the
    cursor (the cursor's own item included) so the other has*Page flag is exact: a page
    reached from a cursor has a previous page while anything precedes its first item."""
    if flt.matches_nothing:
        return Page([], False, False)
    bound = request.before if request.backward else request.after
    descending = sort.descending != request.backward
    main = page_keys(flt, Walk(sort, descending, bound, request.size + 1), stats)
    if main is None:
        return Page([], False, False)
    parts = [_tagged("page", main)]
    if bound is not None:
        probe = page_keys(flt, Walk(sort, not descending, bound, 1, include_bound=True), stats)
        if probe is not None:
            parts.append(_tagged("probe", probe))
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = (await conn.execute(stmt)).all()
    walked = [Position(r.sort_value, Source(r.source), r.id) for r in rows if r.part == "page"]
    # UNION ALL does not promise to keep each part's order: restore the walk order.
    walked.sort(key=lambda p: (p.value, p.source, p.id), reverse=descending)
    across = any(r.part == "probe" for r in rows)
    more = len(walked) > request.size
    walked = walked[: request.size]
    if request.backward:
        return Page(walked[::-1], has_next=across, has_previous=more)
    return Page(walked, has_next=more, has_previous=across)
