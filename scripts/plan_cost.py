"""What planning a page costs in process: the planner afresh (`plan.plan_walk_fresh`)
against its memo answering a request planned before (`plan.plan_walk`), and the memo's
key alone (`plan_memo.plan_key`), per class and walk, alternated, one call a sample.

The counts, sizes and pair estimates are the database's (read-only, as the bench reads
them: `resolve_tags`); each call gets a new filter, walk and statistics equal to the
last, as each served request makes its own (`TagDirectory.resolve`). Walks: the first
page (no bound), a page after a cursor (a bound, another value each call) and its edge
probe. Prints the median and p95 in microseconds.

    export DATABASE_URL=$(GALLERY_GQL_HOME=/tmp/zipf gallery-gql db url)
    flock /tmp/bench.lock .venv/bin/python scripts/plan_cost.py --samples 3000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, Position
from gallery_gql.gallery.query.plan import plan_walk, plan_walk_fresh
from gallery_gql.gallery.query.plan_memo import plan_key
from gallery_gql.gallery.query.shapes import Walk
from gallery_gql.gallery.query.tag_stats import TagStats, resolve_tags
from gallery_gql.ops.bench.classes import build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, tag_ids

CLASSES = ("no filter", "1 popular tag", "1 rare tag", "ALL 2", "ALL 20", "ANY 3")
START = datetime(2026, 1, 1, tzinfo=UTC)

Case = tuple[str, str, ContentFilter, TagStats, Walk]


async def _cases() -> list[Case]:
    engine = create_async_engine(os.environ["DATABASE_URL"])
    try:
        async with engine.connect() as conn:
            corpus = await load_corpus(conn)
            ids = await tag_ids(conn)
            cases = []
            for query in build_classes(corpus):
                if query.name not in CLASSES:
                    continue
                flt = content_filter(query, corpus.viewer)
                uuids = [UUID(ids[key]) for key in (*query.tags, *query.exclude)]
                stats = (await resolve_tags(conn, uuids)).stats
                bound = Position(START, Source.AUTO, 1)
                walks = {
                    "first page": Walk(query.sort, True, None, 26),
                    "after a cursor": Walk(query.sort, True, bound, 26),
                    "edge probe": Walk(query.sort, False, bound, 1, include_bound=True),
                }
                cases += [(query.name, name, flt, stats, walk) for name, walk in walks.items()]
            return cases
    finally:
        await engine.dispose()


Request = tuple[ContentFilter, Walk, TagStats]
Run = Callable[[ContentFilter, Walk, TagStats, str], object]


def _anew(flt: ContentFilter, stats: TagStats, walk: Walk, n: int) -> Request:
    """An equal request made afresh: new objects, another bound value."""
    counts = {key: dict(per) for key, per in stats.tags.items()}
    again = TagStats(counts, dict(stats.source_items), dict(stats.ids), stats.pairs)
    if walk.bound is not None:
        walk = replace(walk, bound=replace(walk.bound, value=START - timedelta(seconds=n)))
    return replace(flt), walk, again


def _one(run: Run, args: Request) -> float:
    flt, walk, stats = args
    name = "probe" if walk.include_bound else "page"
    start = time.perf_counter_ns()
    run(flt, walk, stats, name)
    return (time.perf_counter_ns() - start) / 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3_000)
    samples = max(10, min(parser.parse_args().samples, 100_000))
    cases = asyncio.run(_cases())
    runs: dict[str, Run] = {"fresh": plan_walk_fresh, "memo": plan_walk, "key": plan_key}
    for _, _, flt, stats, walk in cases:  # planned once: the memo answers from here on
        made = plan_walk(flt, walk, stats, "probe" if walk.include_bound else "page")
        fresh = plan_walk_fresh(flt, walk, stats, "probe" if walk.include_bound else "page")
        assert (made.shape, made.params, made.strategy) == (
            fresh.shape,
            fresh.params,
            fresh.strategy,
        )
    gc.collect()
    gc.freeze()
    times: dict[tuple[int, str], list[float]] = {}
    deadline = time.monotonic() + 480
    for n in range(samples):
        if time.monotonic() > deadline:
            break
        order = list(runs.items()) if n % 2 else list(reversed(runs.items()))
        for index, (_, _, flt, stats, walk) in enumerate(cases):
            args = _anew(flt, stats, walk, n)
            for name, run in order:
                times.setdefault((index, name), []).append(_one(run, args))
    print(f"{'class':<14} {'walk':<15} {'strategy':<24} " + " ".join(f"{n:>15}" for n in runs))
    for index, (query, walk_name, flt, stats, walk) in enumerate(cases):
        strategy = plan_walk(flt, walk, stats, "page").strategy
        cells = []
        for name in runs:
            values = times[(index, name)]
            p95 = statistics.quantiles(values, n=20)[18]
            cells.append(f"{statistics.median(values):6.1f} / {p95:6.1f}")
        print(f"{query:<14} {walk_name:<15} {strategy:<24} " + " ".join(f"{c:>15}" for c in cells))
    print(f"median / p95 us a call, {len(times[(0, 'fresh')])} samples each")


if __name__ == "__main__":
    main()
