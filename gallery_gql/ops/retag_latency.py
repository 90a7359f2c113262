"""Latency of the tag write path: `tagging.retag` in a write transaction, timed end to end
(BEGIN, SET LOCAL timeouts, retag, COMMIT) on a seeded database.

Each run sets an item's tags to a list of `--tags` tags that differs from a fixed base list
in `--changed` places, so consecutive runs swap roughly that many tags. With several
writers, all hit the same item (`--hot`, lock contention) or one item each.

    GALLERY_GQL_HOME=/tmp/x python -m gallery_gql.ops.retag_latency --writers 1 8

It writes to the database: run it on a throwaway one. The items' original tags are put
back at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gallery_gql.db.engine import resolve_database_url
from gallery_gql.db.transactions import run_in_transaction
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.access import lock_items
from gallery_gql.gallery.writes.tag_refs import TagRef
from gallery_gql.gallery.writes.tagging import Retag, retag
from gallery_gql.settings import get_settings


@dataclass(frozen=True)
class LatencyReport:
    writers: int
    hot: bool
    runs: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def line(self) -> str:
        target = "same item" if self.hot else "own item"
        return (
            f"writers={self.writers:<2} ({target}) runs={self.runs} "
            f"p50={self.p50_ms:.2f}ms p95={self.p95_ms:.2f}ms p99={self.p99_ms:.2f}ms "
            f"max={self.max_ms:.2f}ms throughput={self.runs / self.seconds:.0f}/s"
        )


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _tag_pool(conn: AsyncConnection) -> list[TagRef]:
    rows = await conn.execute(text("SELECT tag_key, id FROM tags ORDER BY tag_key"))
    return [TagRef(row.tag_key, row.id) for row in rows]


async def _items(conn: AsyncConnection, count: int) -> dict[ItemKey, list[TagRef]]:
    """`count` auto items with their current tags (to restore afterwards)."""
    rows = await conn.execute(
        text(
            "SELECT i.id, coalesce(array_agg(t.tag_key) FILTER (WHERE t.tag_key IS NOT NULL),"
            " '{}') AS keys, coalesce(array_agg(t.id) FILTER (WHERE t.id IS NOT NULL), '{}')"
            " AS ids FROM (SELECT id, tags FROM content_items_auto ORDER BY id LIMIT :n) i"
            " LEFT JOIN LATERAL unnest(i.tags) AS u(tag_id) ON true"
            " LEFT JOIN tags t ON t.id = u.tag_id GROUP BY i.id ORDER BY i.id"
        ),
        {"n": count},
    )
    return {
        ItemKey(Source.AUTO, row.id): [TagRef(k, i) for k, i in zip(row.keys, row.ids, strict=True)]
        for row in rows
    }


async def measure(
    engine: AsyncEngine,
    *,
    writers: int,
    runs: int,
    tags: int = 77,
    changed: int = 10,
    hot: bool = True,
    seed: int = 1,
) -> LatencyReport:
    """Time `runs` retags spread over `writers` concurrent tasks."""
    rng = random.Random(seed)  # noqa: S311 - a benchmark, not a secret
    settings = get_settings()
    async with engine.connect() as conn:
        pool = await _tag_pool(conn)
        originals = await _items(conn, 1 if hot else writers)
    if len(pool) < tags + changed:
        raise SystemExit(f"needs at least {tags + changed} tags, the database has {len(pool)}")
    base = rng.sample(pool, tags)
    spare = [ref for ref in pool if ref not in base]
    keys = sorted(originals)

    def variant() -> frozenset[TagRef]:
        kept = rng.sample(base, tags - changed)
        return frozenset(kept + rng.sample(spare, changed))

    async def write(key: ItemKey, refs: frozenset[TagRef]) -> None:
        async def retag_item(conn: AsyncConnection) -> None:
            await retag(conn, [Retag(key, set=refs)], await lock_items(conn, [key]))

        await run_in_transaction(
            engine,
            retag_item,
            lock_timeout_ms=settings.lock_timeout_ms,
            statement_timeout_ms=settings.write_statement_timeout_ms,
        )

    for key in keys:
        await write(key, frozenset(base))
    timings: list[float] = []

    async def writer(n: int) -> None:
        key = keys[0] if hot else keys[n]
        for _ in range(runs // writers + (n < runs % writers)):
            refs = variant()
            started = time.perf_counter()
            await write(key, refs)
            timings.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    seconds = time.perf_counter() - started
    for key in keys:
        await write(key, frozenset(originals[key]))
    return LatencyReport(
        writers=writers,
        hot=hot,
        runs=len(timings),
        seconds=seconds,
        p50_ms=statistics.median(timings),
        p95_ms=_percentile(timings, 0.95),
        p99_ms=_percentile(timings, 0.99),
        max_ms=max(timings),
    )


async def _main(args: argparse.Namespace) -> None:
    url = args.url or resolve_database_url(get_settings())
    engine = create_async_engine(url, pool_size=max(args.writers) + 2, max_overflow=0)
    try:
        for writers in args.writers:
            for hot in (True, False) if args.both else (not args.distinct,):
                if writers == 1 and not hot:
                    continue  # the same as the hot case
                report = await measure(
                    engine,
                    writers=writers,
                    runs=args.runs,
                    tags=args.tags,
                    changed=args.changed,
                    hot=hot,
                )
                print(report.line())
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded one)")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--runs", type=int, default=200, help="retags per measurement")
    parser.add_argument("--tags", type=int, default=77, help="tags on the item")
    parser.add_argument("--changed", type=int, default=10, help="tags swapped per run")
    parser.add_argument("--distinct", action="store_true", help="one item per writer")
    parser.add_argument("--both", action="store_true", help="same item and one item each")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
