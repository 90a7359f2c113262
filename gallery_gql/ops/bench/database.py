"""Database-layer timings: our strategies against Genonaut's two approaches, per class,
on the same connection and data.

Apples to apples: both sides run on the driver the served reads use (`db/raw.fetch_rows`:
asyncpg's prepared statements, one round trip each), read the same item columns and make
the same item records of them (`lookups.item_from_columns`), and each timed run of a fast
baseline alternates with one of ours, as many of them; only baselines slower than
`FAST_BASELINE_MS` run their own `baseline_iterations` apart."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.raw import fetch_rows
from gallery_gql.gallery.lookups import item_from_columns
from gallery_gql.gallery.query.fetch import Page, fetch_page
from gallery_gql.gallery.query.filters import Collection, ContentFilter, PageRequest, Position
from gallery_gql.gallery.query.tag_stats import TagStats, resolve_tags
from gallery_gql.ops.bench.baselines import array_union, junction_group_by, parameters
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.stats import Summary

APPROACHES = ("ours", "genonaut: array @>/&& per branch", "genonaut: junction GROUP BY")

FAST_BASELINE_MS = 50.0
"""A baseline whose warm-up took at most this long is timed as often as ours, each run
beside one of ours; slower ones run `baseline_iterations` times after ours."""


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


async def measured_request(
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
        samples.append(await _timed(run))
    return Summary.of(samples)


async def _timed(run: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await run()
    return (time.perf_counter() - started) * 1000


async def _alternated(
    runs: dict[str, Callable[[], Awaitable[object]]], warmup: int, iterations: int
) -> dict[str, Summary]:
    """Each run in turn, `iterations` rounds after `warmup` (drift hits them alike), the
    order rotating each round: each follows each other equally often (in a fixed order
    ours always followed the junction GROUP BY, and the array query always followed ours
    on the pages ours had just read). Each timed run follows an untimed one of its own:
    ours and the baselines run on different server processes (ours on a generic-plan
    session), and one that sat idle while another worked answers its next statement
    28-90 us slower (waking; docs/benchmarks.md), which would narrow every ratio."""
    for _ in range(warmup):
        for run in runs.values():
            await run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(iterations):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            await runs[name]()
            samples[name].append(await _timed(runs[name]))
    return {name: Summary.of(taken) for name, taken in samples.items()}


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
    request = await measured_request(conn, query, flt, stats)
    # As the served workers run (`app.create_served_app`): what lives on is frozen, so the
    # cyclic collector does not rescan it (the corpus' 20k tags) inside a timed run.
    gc.collect()
    gc.freeze()

    async def ours() -> Page:
        # The page and its items as the served query reads them (tag arrays only when the
        # class asks for tag names).
        return await fetch_page(conn, flt, query.sort, request, stats, item_tags=query.tag_names)

    fast: dict[str, Callable[[], Awaitable[object]]] = {APPROACHES[0]: ours}
    slow: dict[str, Callable[[], Awaitable[object]]] = {}
    if query.baselines:
        params = parameters(query, tag_ids)
        shapes = [(APPROACHES[1], array_union(query))]
        if query.tags:
            shapes.append((APPROACHES[2], junction_group_by(query)))
        for name, statement in shapes:

            async def baseline(statement: TextClause = statement) -> object:
                return list(map(item_from_columns, await fetch_rows(conn, statement, params)))

            first = await _timed(baseline)
            (fast if first <= FAST_BASELINE_MS else slow)[name] = baseline
    timings = await _alternated(fast, warmup, iterations)
    for name, run in slow.items():
        timings[name] = await _time(run, 0, baseline_iterations)
    return ClassResult(query, (await ours()).strategy, timings)


async def tag_ids(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(text("SELECT tag_key, id FROM tags"))
    return {int(row.tag_key): str(row.id) for row in rows}
