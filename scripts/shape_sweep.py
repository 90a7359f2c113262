"""Database time of page shapes outside the bench's fixed mix, swept across tag ranks: ALL
and ANY of k tags of neighbouring ranks by date, one tag and ALL of two by rating, first
and deep pages (docs/benchmarks.md, "Shapes beyond the mix").

Tags are taken by rank in the exact per-tag counts (0 = the most common), so a sweep over
ranks walks from common tags that rarely meet down the long tail. Each row is measured
as the bench measures its classes: `fetch_page` on one warm connection, 3 warm-ups and
`--iterations` runs, cursors followed (untimed) to deep pages.

    GALLERY_GQL_HOME=/tmp/zipf .venv/bin/python scripts/shape_sweep.py --ranks 5,20,50,100,300,1000

The planner reads the pair estimates the database holds (tag_pair_counts, `gallery-gql
pair-stats`); `--pair-stats temp` computes them first into a temporary table of the
sweep's own session, which shadows the stored one (a database before migration 0004, or
one whose estimates are not to be touched), and `--pair-stats none` into an empty one.
`--mix` measures the bench's fixed mix instead (`gallery-gql bench`'s classes, database
layer, ours only), so the mix can be compared with and without the estimates on a
database that holds none.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.ops.bench.classes import QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import measure_class, tag_ids
from gallery_gql.ops.pair_stats import refresh_pair_counts
from gallery_gql.settings import Settings

SHAPES: list[tuple[str, int, TagMatch, Sort]] = [
    ("ALL 2", 2, TagMatch.ALL, Sort.NEWEST),
    ("ALL 4", 4, TagMatch.ALL, Sort.NEWEST),
    ("ALL 5", 5, TagMatch.ALL, Sort.NEWEST),
    ("ANY 5", 5, TagMatch.ANY, Sort.NEWEST),
    ("1 tag by rating", 1, TagMatch.ALL, Sort.TOP_RATED),
    ("ALL 2 by rating", 2, TagMatch.ALL, Sort.TOP_RATED),
]


async def temp_pair_counts(conn: AsyncConnection, fill: bool = True) -> None:
    """A session's own tag_pair_counts (shadowing the stored one), filled as the refresh
    fills the stored one unless `fill` is false."""
    await conn.execute(
        text(
            "CREATE TEMPORARY TABLE tag_pair_counts (source smallint, tag_a integer,"
            " tag_b integer, items integer NOT NULL, PRIMARY KEY (source, tag_a, tag_b))"
        )
    )
    if fill:
        for done in await refresh_pair_counts(conn):
            print(f"<!-- pair estimates: {done} -->", flush=True)
    await conn.commit()


async def measure_mix(conn: AsyncConnection, iterations: int) -> None:
    corpus = await load_corpus(conn)
    ids = await tag_ids(conn)
    print("| class | strategy | p50 / p95 / max ms |")
    print("|---|---|---|")
    for query in build_classes(corpus):
        query = replace(query, baselines=False)
        result = await measure_class(conn, query, corpus.viewer, ids, 3, iterations, 1)
        t = result.timings["ours"]
        print(
            f"| {query.name} | {result.strategy} | {t.p50:.1f} / {t.p95:.1f} / {t.max:.1f} |",
            flush=True,
        )


async def main(ranks: list[int], pages: list[int], iterations: int, pairs: str, mix: bool) -> None:
    url = EmbeddedCluster(Settings().home).url()
    # The application's read engine: autocommit, its generic-plan sessions (db/raw.py).
    engine = autocommit(create_engine(url, Settings(statement_timeout_ms=60_000)))
    async with engine.connect() as conn:
        if pairs != "table":
            await temp_pair_counts(conn, fill=pairs == "temp")
        if mix:
            await measure_mix(conn, iterations)
            await engine.dispose()
            return
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        print("| shape | ranks | items per tag | page | strategy | p50 / p95 / max ms |")
        print("|---|---|---|---|---|---|")
        for label, k, match, sort in SHAPES:
            for rank in ranks:
                chosen = corpus.by_count[rank : rank + k]
                if len(chosen) < k:
                    continue
                tags = tuple(key for key, _ in chosen)
                counts = f"{chosen[0][1]:,}" + (f"-{chosen[-1][1]:,}" if k > 1 else "")
                for page in pages:
                    query = QueryClass(label, tags, match, sort=sort, page=page, baselines=False)
                    result = await measure_class(conn, query, corpus.viewer, ids, 3, iterations, 1)
                    t = result.timings["ours"]
                    print(
                        f"| {label} | {rank}-{rank + k - 1} | {counts} | {page} "
                        f"| {result.strategy} | {t.p50:.1f} / {t.p95:.1f} / {t.max:.1f} |",
                        flush=True,
                    )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="5,20,50,100,300,1000")
    parser.add_argument("--pages", default="1,20", help="comma-separated page numbers")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument(
        "--pair-stats",
        choices=("table", "temp", "none"),
        default="table",
        help="the stored pair estimates, fresh ones in a temporary table, or none",
    )
    parser.add_argument("--mix", action="store_true", help="the bench's mix instead")
    args = parser.parse_args()
    asyncio.run(
        main(
            [int(r) for r in args.ranks.split(",")],
            [int(p) for p in args.pages.split(",")],
            args.iterations,
            args.pair_stats,
            args.mix,
        )
    )
