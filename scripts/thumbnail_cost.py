"""What `ContentItem.thumbnail` costs a grid page: its graphql-core resolver called for the
25 items of a page, as stored paths (no media location configured), as `/media/` URLs
and as CDN URLs, side by side (docs/decisions.md, "thumbnail returns a URL").

Reads the newest items of the embedded cluster's database (seed it first), then times
each resolver over the same pages, alternating, and reports per page of 25 the median
and p95 in microseconds, with and without a `resolution` argument.

    GALLERY_GQL_HOME=.gallery-gql .venv/bin/python scripts/thumbnail_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.types.content import ContentItem, thumbnail_resolver
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.lookups import fetch_items
from gallery_gql.settings import Settings

PAGE = 25
NEWEST = text("SELECT id FROM content_items_auto ORDER BY created_at DESC, id DESC LIMIT :n")


async def newest_items(count: int) -> list[ContentItem]:
    engine = create_async_engine(EmbeddedCluster(Settings().home).url())
    try:
        async with engine.connect() as conn:
            ids = [row.id for row in await conn.execute(NEWEST, {"n": count})]
            records = await fetch_items(conn, [ItemKey(Source.AUTO, i) for i in ids])
    finally:
        await engine.dispose()
    return [ContentItem(record=records[ItemKey(Source.AUTO, i)]) for i in ids]


def page_times(
    resolve: Callable[..., str], pages: list[list[ContentItem]], resolution: str | None
) -> list[float]:
    """Microseconds per page of 25 calls, one sample per page."""
    samples = []
    for page in pages:
        started = time.perf_counter_ns()
        for item in page:
            resolve(item, None, resolution)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def main(rounds: int) -> None:
    items = asyncio.run(newest_items(40 * PAGE))
    pages = [items[i : i + PAGE] for i in range(0, len(items), PAGE)]
    resolvers = {
        "stored path": thumbnail_resolver(None),
        "/media/ URL": thumbnail_resolver("/media/"),
        "CDN URL": thumbnail_resolver("https://cdn.example.com/gallery/"),
    }
    print(f"{len(pages)} pages of {PAGE}, {rounds} rounds, us per page: median / p95")
    for resolution in (None, "512x512"):
        samples: dict[str, list[float]] = {name: [] for name in resolvers}
        for _ in range(rounds):  # alternating, so drift hits every resolver alike
            for name, resolve in resolvers.items():
                samples[name].extend(page_times(resolve, pages, resolution))
        for name, values in samples.items():
            p95 = statistics.quantiles(values, n=20)[-1]
            print(
                f"  thumbnail{'(resolution: ' + repr(resolution) + ')' if resolution else ''}"
                f" {name:<12} {statistics.median(values):6.1f} / {p95:6.1f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    main(parser.parse_args().rounds)
