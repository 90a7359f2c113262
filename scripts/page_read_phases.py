"""Where a rare-tag page's database-layer time goes, ours against Genonaut's array query.

For each class of the bench's mix (`ops/bench/classes.py`) read as one matching set, in one
process on the application's read engine (autocommit, its generic-plan sessions), timed
alternately round by round (the order rotating): `fetch_page` whole (what the bench
times as ours), `plan_walk` alone (the page's plan in Python), our statement alone
through `fetch_rows` as `fetch_page` sends it (plan mode and all), and the baseline's
array query through `fetch_rows` with its records (what the bench times as Genonaut's).
Medians and p95 in microseconds.

    DATABASE_URL=... .venv/bin/python scripts/page_read_phases.py [--rounds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.raw import fetch_rows
from gallery_gql.gallery.lookups import item_from_columns
from gallery_gql.gallery.query.fetch import fetch_page, page_read, plan_page
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.gallery.query.shapes import Walk
from gallery_gql.gallery.query.sql import whole_item_columns
from gallery_gql.gallery.query.tag_stats import resolve_tags
from gallery_gql.ops.bench.baselines import array_union, parameters
from gallery_gql.ops.bench.classes import QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, measured_request, tag_ids
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.settings import Settings

Run = Callable[[], Awaitable[object]]


async def _phases(
    conn: AsyncConnection, query: QueryClass, viewer: UUID, ids: dict[int, str]
) -> dict[str, Run] | None:
    flt = content_filter(query, viewer)
    stats = (await resolve_tags(conn, [UUID(ids[k]) for k in (*query.tags, *query.exclude)])).stats
    request = await measured_request(conn, query, flt, stats)
    paged = plan_page(flt, query.sort, request, stats)
    if not paged.main.shape.matching_set:
        return None
    probe = paged.probe.shape if paged.probe is not None else None
    statement, plan, _ = page_read(paged.main.shape, probe, whole_item_columns(query.tag_names))
    params = paged.params
    bound = request.before if request.backward else request.after
    walk = Walk(query.sort, paged.descending, bound, request.size + 1)
    baseline = array_union(query)
    baseline_params = parameters(query, ids)

    async def whole() -> object:
        return await fetch_page(conn, flt, query.sort, request, stats, item_tags=query.tag_names)

    async def planned() -> object:
        return plan_walk(flt, walk, stats, "page")

    async def statement_alone() -> object:
        return await fetch_rows(conn, statement, params, plan=plan)

    async def genonaut() -> object:
        return list(map(item_from_columns, await fetch_rows(conn, baseline, baseline_params)))

    return {
        "fetch_page": whole,
        "plan_walk": planned,
        "our statement": statement_alone,
        "genonaut array": genonaut,
    }


async def _alternated(runs: dict[str, Run], rounds: int) -> dict[str, Summary]:
    names = list(runs)
    for run in runs.values():
        for _ in range(20):
            await run()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            started = time.perf_counter_ns()
            await runs[name]()
            samples[name].append((time.perf_counter_ns() - started) / 1000)
    return {name: Summary.of(taken) for name, taken in samples.items()}


async def main(rounds: int, seconds: float) -> None:
    engine = autocommit(create_engine(os.environ["DATABASE_URL"], Settings()))
    deadline = time.monotonic() + seconds
    async with engine.connect() as conn:
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        gc.collect()
        gc.freeze()
        print(
            f"{'class':24s} "
            + " | ".join(
                f"{n} p50/p95 us"
                for n in ("fetch_page", "plan_walk", "our statement", "genonaut array")
            )
        )
        for query in build_classes(corpus):
            if time.monotonic() > deadline:
                print("time limit reached")
                break
            runs = await _phases(conn, query, corpus.viewer, ids)
            if runs is None or not query.baselines:
                continue
            timed = await _alternated(runs, rounds)
            cells = " | ".join(f"{s.p50:7.0f} / {s.p95:7.0f}" for s in timed.values())
            print(f"{query.name:24s} {cells}")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=300.0, help="stop starting classes after")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.seconds))
