"""What announcing a write costs its transaction: commits of a transaction that sends a
NOTIFY (as every content write now does, gallery/item_events.py) against the same
transaction without one, alternated, with 1 and 8 concurrent writers
(docs/benchmarks.md, "Live subscriptions: fan-out").

Each transaction updates one row of a scratch table (so it writes and commits WAL, as a
content write does) and, in the `notify` approach, also runs `pg_notify` on a channel of
its own with a payload of one event line. Uses the embedded cluster's database:

    GALLERY_GQL_HOME=/tmp/live-fanout .venv/bin/python scripts/notify_cost.py --rounds 3

The scratch table (`notify_cost_scratch`) is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg
import uvloop

from gallery_gql.db.dedicated import asyncpg_dsn
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.settings import Settings

LINE = "C 1 2000000000 00000000-0000-0000-0000-000000000001 0"


async def _writer(dsn: str, writer: int, count: int, notify: bool) -> list[float]:
    connection = await asyncpg.connect(dsn)
    times = []
    try:
        for n in range(count):
            started = time.perf_counter()
            async with connection.transaction():
                await connection.execute(
                    "UPDATE notify_cost_scratch SET n = n + 1 WHERE id = $1", writer
                )
                if notify:
                    await connection.execute("SELECT pg_notify('notify_cost', $1)", f"{LINE}{n}")
            times.append(1000 * (time.perf_counter() - started))
    finally:
        await connection.close()
    return times


async def _round(dsn: str, writers: int, count: int, notify: bool) -> tuple[list[float], float]:
    started = time.perf_counter()
    results = await asyncio.gather(*(_writer(dsn, w, count, notify) for w in range(writers)))
    elapsed = time.perf_counter() - started
    return [t for times in results for t in times], writers * count / elapsed


async def main(rounds: int, count: int) -> None:
    dsn = asyncpg_dsn(EmbeddedCluster(Settings().home).url())
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        "CREATE TABLE notify_cost_scratch (id int PRIMARY KEY, n int NOT NULL);"
        "INSERT INTO notify_cost_scratch SELECT g, 0 FROM generate_series(0, 7) g"
    )
    try:
        for writers in (1, 8):
            for round_ in range(rounds):
                for notify in (False, True):
                    times, rate = await _round(dsn, writers, count, notify)
                    ordered = sorted(times)
                    print(
                        f"{writers} writer(s), round {round_ + 1}, "
                        f"{'NOTIFY' if notify else 'no NOTIFY'}: {rate:.0f} commits/s, "
                        f"p50 {statistics.median(times):.3f} ms, "
                        f"p95 {ordered[int(0.95 * len(ordered))]:.3f} ms",
                        flush=True,
                    )
    finally:
        await setup.execute("DROP TABLE notify_cost_scratch")
        await setup.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--transactions", type=int, default=1000, help="per writer per round")
    args = parser.parse_args()
    uvloop.run(main(args.rounds, args.transactions))
