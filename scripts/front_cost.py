"""CPU per `/graphql` request, in process, with the front (web/graphql_http/front.py)
and without it (FastAPI and its middleware stack), alternated round by round on one app.

Builds the app as `serve` does (production settings, JSON logs to /dev/null; no rate
limit, as one client sends every request), then times raw ASGI calls (no HTTP client, no
server) of a page of 25: `request_cost.py`'s grid request, or with `RARE_TAG` set a page
of that tag's items as the gallery asks for it (`ops/bench/http.py`). Each request's CPU
(this process: app, driver, event loop) is timed alone, the two ways taking turns request
by request (ABBA), so the machine's noise falls on both; each round prints its median and
p95 per way and the median of the paired differences, the summary their ranges over the
rounds.

    DATABASE_URL=postgresql+asyncpg://gallery@127.0.0.1:49395/gallery \\
    RARE_TAG=7c6192e1-cc2f-4682-a5bd-6135169cea4f \\
        flock /tmp/bench.lock .venv/bin/python scripts/front_cost.py --requests 2000 --rounds 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

import orjson
import uvloop
from asgi_lifespan import LifespanManager
from request_cost import BODY, _request, as_served

from gallery_gql.web.graphql_http.front import GalleryApp


def _body() -> bytes:
    tag = os.environ.get("RARE_TAG")
    if not tag:
        return BODY
    from gallery_gql.ops.bench.http import DOCUMENT, GRID

    variables = {
        "tags": [tag],
        "match": "ANY",
        "exclude": [],
        "creator": None,
        "collections": None,
        "sort": "NEWEST",
        "first": 25,
        "cursor": None,
    }
    return orjson.dumps({"query": DOCUMENT % GRID, "variables": variables})


async def _round(
    app: GalleryApp, served: Any, ways: dict[str, Any], body: bytes, requests: int
) -> dict[str, list[float]]:
    micros: dict[str, list[float]] = {name: [] for name in ways}
    for number in range(requests):
        order = list(ways.items()) if number % 2 == 0 else list(reversed(ways.items()))
        for name, front in order:
            app.front = front
            started = time.process_time_ns()
            await _request(served, body)
            micros[name].append((time.process_time_ns() - started) / 1000)
    return micros


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def main(requests: int, rounds: int) -> None:
    from gallery_gql.app import create_served_app

    app = create_served_app()
    assert isinstance(app, GalleryApp)
    assert app.front is not None
    ways = {"front": app.front, "stack": None}
    body = _body()
    medians: dict[str, list[float]] = defaultdict(list)
    p95s: dict[str, list[float]] = defaultdict(list)
    saved: list[float] = []
    async with LifespanManager(app) as manager:
        for name, front in ways.items():
            app.front = front
            for _ in range(300):  # warm-up: plans, statements, pools
                answer = await _request(manager.app, body)
            if b'"errors"' in answer or b'"edges"' not in answer:
                raise SystemExit(f"{name}: {answer[:300]!r}")
        for number in range(rounds):
            micros = await _round(app, manager.app, ways, body, requests)
            for name, values in micros.items():
                medians[name].append(statistics.median(values))
                p95s[name].append(_p95(values))
            pairs = zip(micros["stack"], micros["front"], strict=True)
            saved.append(statistics.median(stack - front for stack, front in pairs))
            print(
                f"round {number + 1}: "
                + ", ".join(
                    f"{name} median {medians[name][-1]:.0f} p95 {p95s[name][-1]:.0f}"
                    for name in ways
                )
                + f"; saved (paired median) {saved[-1]:.0f} µs CPU a request",
                file=sys.__stdout__,
            )
    print(f"\n{requests} requests a round, {rounds} rounds; CPU µs a request:", file=sys.__stdout__)
    print("| way | median | p95 |\n|---|---|---|", file=sys.__stdout__)
    for name in ways:
        print(
            f"| {name} | {min(medians[name]):.0f} to {max(medians[name]):.0f} "
            f"| {min(p95s[name]):.0f} to {max(p95s[name]):.0f} |",
            file=sys.__stdout__,
        )
    print(f"saved (paired median): {min(saved):.0f} to {max(saved):.0f} µs", file=sys.__stdout__)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (see the docstring)")
    as_served()
    uvloop.run(main(args.requests, args.rounds))
