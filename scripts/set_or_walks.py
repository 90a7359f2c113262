"""A page read as one matching set against the same page read by the walks.

For every class of the bench's mix (`ops/bench/classes.py`) that the planner would read
as a matching set were `MATCHING_SET_MAX_US` `TAG_WALKS_SET_SHARE` times as high and ALL's
walks not weighed against it (`plan_rules.all_walks_us`), the page is read by `fetch_page` on the
application's read engine (autocommit, its generic-plan sessions) with the planner forced
to the set and to the walks in turn, round by round (the order alternating; each timed
read after an untimed one of the same rule). Medians and p95 in microseconds, with each
rule's strategy, and the planner's own choice. For tuning `plan_rules.MATCHING_SET_MAX_US`,
`plan_rules.TAG_WALKS_SET_SHARE` and ALL's walk against the set (docs/decisions.md).

    DATABASE_URL=... .venv/bin/python scripts/set_or_walks.py [--rounds 400]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import time
from uuid import UUID

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.gallery.query import plan, plan_rules
from gallery_gql.gallery.query.fetch import fetch_page
from gallery_gql.gallery.query.filters import ContentFilter
from gallery_gql.gallery.query.tag_stats import TagStats, resolve_tags
from gallery_gql.ops.bench.classes import build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, measured_request, tag_ids
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.settings import Settings

RULES = {"set": math.inf, "walks": -1.0}
WEIGHED_WALKS = plan_rules.all_walks_us


def _unweighed(flt: ContentFilter, stats: TagStats) -> float | None:
    return None


def _rule(bound: float, *, weigh_walks: bool = False) -> None:
    plan_rules.MATCHING_SET_MAX_US = bound
    plan_rules.all_walks_us = WEIGHED_WALKS if weigh_walks else _unweighed
    plan.plan_walk.clear()  # kept plans do not key on the rule


async def main(rounds: int) -> None:
    stored = plan_rules.MATCHING_SET_MAX_US
    engine = autocommit(create_engine(os.environ["DATABASE_URL"], Settings()))
    async with engine.connect() as conn:
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        gc.collect()
        gc.freeze()
        print("class | set p50 / p95 us [strategy] | walks p50 / p95 us [strategy] | planner")
        for query in build_classes(corpus):
            flt = content_filter(query, corpus.viewer)
            uuids = [UUID(ids[k]) for k in (*query.tags, *query.exclude)]
            stats = (await resolve_tags(conn, uuids)).stats
            request = await measured_request(conn, query, flt, stats)
            _rule(stored, weigh_walks=True)
            chosen = (await fetch_page(conn, flt, query.sort, request, stats)).strategy
            _rule(stored * plan_rules.TAG_WALKS_SET_SHARE)
            page = await fetch_page(conn, flt, query.sort, request, stats)
            if page.strategy != "tag-array-set":
                continue
            samples: dict[str, list[float]] = {name: [] for name in RULES}
            strategies: dict[str, str] = {}
            for round_ in range(rounds):
                order = list(RULES.items())
                for name, bound in order if round_ % 2 else order[::-1]:
                    _rule(bound)
                    await fetch_page(conn, flt, query.sort, request, stats)
                    started = time.perf_counter_ns()
                    page = await fetch_page(conn, flt, query.sort, request, stats)
                    samples[name].append((time.perf_counter_ns() - started) / 1000)
                    strategies[name] = page.strategy
            cells = []
            for name, taken in samples.items():
                summary = Summary.of(taken[20:])
                cells.append(f"{summary.p50:.0f} / {summary.p95:.0f} [{strategies[name]}]")
            print(f"{query.name} | " + " | ".join(cells) + f" | {chosen}", flush=True)
    _rule(stored, weigh_walks=True)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    asyncio.run(main(parser.parse_args().rounds))
