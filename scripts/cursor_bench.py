"""Cost of content cursors on the request path: sealing a page's cursors (one per edge)
and opening the one a request brings. Pure CPU, no database.

Each sample times one page of `--page` cursors sealed, or `--page` cursors opened, and is
divided by the page size; `--samples` samples after 200 warm-ups. Prints the median and
p95 in microseconds per cursor, and the length of a cursor.

    .venv/bin/python scripts/cursor_bench.py --samples 5000
"""

from __future__ import annotations

import argparse
import functools
import inspect
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import cursor as cursors
from gallery_gql.gallery.query.filters import ContentFilter, Position, Sort

SECRET = "bench-secret-" + "b" * 40
VIEWER = UUID("2f1e0c8a-6d0b-4f7e-9a31-0c5d7f4b2e10")


def _bound(fn: Any) -> Any:
    """Cursors before 2026-12-04 were not bound to a viewer: either API, resolved once."""
    if "viewer" in inspect.signature(fn).parameters:
        return functools.partial(fn, viewer=VIEWER)
    return fn


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--page", type=int, default=25)
    args = parser.parse_args()
    digest = ContentFilter(tag_keys=(3, 17)).digest(Sort.NEWEST)
    start = datetime(2025, 5, 1, tzinfo=UTC)
    page = [
        cursors.Cursor(digest, Sort.NEWEST, Position(start - timedelta(seconds=n), Source.AUTO, n))
        for n in range(1_000_000, 1_000_000 + args.page)
    ]
    encode, decode = _bound(cursors.encode_cursor), _bound(cursors.decode_cursor)
    tokens = [encode(c, SECRET) for c in page]
    for _ in range(200):
        for c in page:
            encode(c, SECRET)
        for t in tokens:
            decode(t, SECRET)
    seal: list[float] = []
    open_: list[float] = []
    for _ in range(args.samples):
        began = time.perf_counter_ns()
        for c in page:
            encode(c, SECRET)
        sealed = time.perf_counter_ns()
        for t in tokens:
            decode(t, SECRET)
        opened = time.perf_counter_ns()
        seal.append((sealed - began) / args.page / 1000)
        open_.append((opened - sealed) / args.page / 1000)
    print(f"cursor length: {len(tokens[0])} characters")
    for name, values in (("encode", seal), ("decode", open_)):
        print(
            f"{name}: median {statistics.median(values):.2f} us, "
            f"p95 {_percentile(values, 95):.2f} us per cursor"
        )


if __name__ == "__main__":
    main()
