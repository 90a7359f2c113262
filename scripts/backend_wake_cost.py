"""What a server process that sat idle while another worked costs its next statement.

Two connections with the application's session settings run Genonaut's array query for
one rare tag. Each round times one statement on connection A: after an untimed run on A
itself (its server process awake), or after one on B (A's process idle meanwhile),
alternating round by round. Medians and p95 in microseconds. The bench's database stage
times each run after an untimed one of its own for this reason (ops/bench/database.py).

    DATABASE_URL=... .venv/bin/python scripts/backend_wake_cost.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import asyncpg
from sqlalchemy.engine import make_url

from gallery_gql.ops.bench.stats import Summary

ARRAY_QUERY = (
    "SELECT * FROM (SELECT 0 AS source, id, created_at FROM content_items"
    " WHERE NOT is_private AND tags @> $1::uuid[]"
    " UNION ALL SELECT 1 AS source, id, created_at FROM content_items_auto"
    " WHERE NOT is_private AND tags @> $1::uuid[]) u"
    " ORDER BY created_at DESC, source DESC, id DESC OFFSET 0 LIMIT 25"
)
RARE_TAG = (
    "SELECT t.id FROM tag_counts c JOIN tags t ON t.tag_key = c.tag_key"
    " GROUP BY t.id HAVING sum(c.items) BETWEEN 5 AND 300 LIMIT 1"
)
SESSION = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


async def main(rounds: int) -> None:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    a = await asyncpg.connect(dsn, server_settings=SESSION)
    b = await asyncpg.connect(dsn, server_settings=SESSION)
    try:
        tag = await a.fetchval(RARE_TAG)
        samples: dict[str, list[float]] = {"A after A": [], "A after B": []}
        for round_ in range(rounds):
            name, first = ("A after A", a) if round_ % 2 else ("A after B", b)
            await first.fetch(ARRAY_QUERY, [tag])
            started = time.perf_counter_ns()
            await a.fetch(ARRAY_QUERY, [tag])
            samples[name].append((time.perf_counter_ns() - started) / 1000)
        for name, taken in samples.items():
            summary = Summary.of(taken[25:])
            print(f"{name}: p50 {summary.p50:.0f} us, p95 {summary.p95:.0f} us")
    finally:
        await a.close()
        await b.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rounds))
