"""Database-layer timings: our strategies against Genonaut's two approaches, per class,
on the same connection and data."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.gallery.query.fetch import Page, fetch_page
from gallery_gql.gallery.query.filters import Collection, ContentFilter, PageRequest, Position
from gallery_gql.gallery.query.tag_stats import TagStats, resolve_tags
from gallery_gql.ops.bench.baselines import array_union, junction_group_by, parameters
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.stats import Summary

APPROACHES = ("ours", "genonaut: array @>/&& per branch", "genonaut: junction GROUP BY")


@dataclass(frozen=True)
class ClassResult:
    query: QueryClass
    strategy: str
    timings: dict[str, Summary]  # approach → summary


def content_filter(query: QueryClass, viewer: UUID) -> ContentFilter:
    return ContentFilter(
        tag_keys=query.tags,
        match=query.match,
        exclude_tag_keys=query.exclude,
        creator_id=viewer if query.creator == "ME" else None,
        exclude_creator_id=viewer if query.creator == "OTHERS" else None,
        collections=None
        if query.collections is None
        else frozenset(Collection(name) for name in query.collections),
        viewer_id=viewer if query.signed_in else None,
    )


async def _request(
    conn: AsyncConnection, query: QueryClass, flt: ContentFilter, stats: TagStats
) -> PageRequest:
    """The measured page's request: cursors followed (untimed) to reach deep pages."""
    after: Position | None = None
    for _ in range(query.page - 1):
        page = await fetch_page(conn, flt, query.sort, PageRequest(query.size, after=after), stats)
        if not page.positions:
            break
        after = page.positions[-1]
    if query.backward:
        for _ in range(4):
            page = await fetch_page(
                conn, flt, query.sort, PageRequest(query.size, after=after), stats
            )
            after = page.positions[-1] if page.positions else after
        return PageRequest(query.size, backward=True, before=after)
    return PageRequest(query.size, after=after)


async def _time(run: Callable[[], Awaitable[object]], warmup: int, iterations: int) -> Summary:
    for _ in range(warmup):
        await run()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return Summary.of(samples)


async def measure_class(
    conn: AsyncConnection,
    query: QueryClass,
    viewer: UUID,
    tag_ids: dict[int, str],
    warmup: int,
    iterations: int,
    baseline_iterations: int,
) -> ClassResult:
    flt = content_filter(query, viewer)
    uuids = [UUID(tag_ids[key]) for key in (*query.tags, *query.exclude)]
    stats = (await resolve_tags(conn, uuids)).stats
    request = await _request(conn, query, flt, stats)

    async def ours() -> Page:
        # The page and its items as the served query reads them (tag arrays only when the
        # class asks for tag names).
        return await fetch_page(conn, flt, query.sort, request, stats, item_tags=query.tag_names)

    timings = {APPROACHES[0]: await _time(ours, warmup, iterations)}
    if query.baselines:
        params = parameters(query, tag_ids)
        shapes = [(APPROACHES[1], array_union(query))]
        if query.tags:
            shapes.append((APPROACHES[2], junction_group_by(query)))
        for name, statement in shapes:

            async def baseline(statement: TextClause = statement) -> object:
                return (await conn.execute(statement, params)).all()

            timings[name] = await _time(baseline, 1, baseline_iterations)
    return ClassResult(query, (await ours()).strategy, timings)


async def tag_ids(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(text("SELECT tag_key, id FROM tags"))
    return {int(row.tag_key): str(row.id) for row in rows}
