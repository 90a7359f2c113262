"""CPU and wall time per request, in process: our `/graphql` against the lean REST
reference (ops/bench/lean_rest.py) on the same rare-tag page (docs/benchmarks.md, "Rare
tags and the served gateway's fixed cost").

Builds our app as `serve` does (production settings, JSON logs to /dev/null) and the lean
app with its pool, then times raw ASGI calls (no HTTP client, no server, so the same for
both): `front_cost.py`'s rare-tag request (edges with their cursors, as the bench asks),
the same request without edge cursors (the lean endpoint's fields and `pageInfo`, as the
gallery page asks), and the lean `GET /items?tags=...` of the same tag, taking turns
request by request (ABC CBA). Each round prints each way's CPU and wall medians and p95
(this process: the app, the driver, the event loop; wall less CPU is mostly the
database), the summary their ranges over the rounds.

    DATABASE_URL=postgresql+asyncpg://gallery@127.0.0.1:49395/gallery \\
    RARE_TAG=7c6192e1-cc2f-4682-a5bd-6135169cea4f \\
        flock /tmp/bench.lock .venv/bin/python scripts/lean_request_cost.py --rounds 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from asgi_lifespan import LifespanManager
from front_cost import _body
from request_cost import _request, as_served
from sqlalchemy.engine import make_url

from gallery_gql.ops.bench import lean_rest

Call = Callable[[], Awaitable[bytes]]


async def _lean_request(app: lean_rest.LeanRest, query_string: bytes) -> bytes:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/items",
        "query_string": query_string,
        "headers": [],
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return bytes(messages[-1]["body"])


async def _round(ways: dict[str, Call], requests: int) -> dict[str, list[tuple[float, float]]]:
    """Per way, each request's (CPU µs, wall µs)."""
    timed: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for number in range(requests):
        order = list(ways.items()) if number % 2 == 0 else list(reversed(ways.items()))
        for name, call in order:
            cpu, wall = time.process_time_ns(), time.perf_counter_ns()
            await call()
            timed[name].append(
                ((time.process_time_ns() - cpu) / 1000, (time.perf_counter_ns() - wall) / 1000)
            )
    return timed


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def main(requests: int, rounds: int, tag: str) -> None:
    from gallery_gql.app import create_served_app

    plain = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    os.environ[lean_rest.DATABASE_URL_ENV] = plain.render_as_string(hide_password=False)
    ours, lean = create_served_app(), lean_rest.LeanRest()
    body = _body()
    without_cursors = body.replace(b"edges { cursor node", b"edges { node")
    assert without_cursors != body
    query_string = f"tags={tag}&match=any&sort=newest&first=25".encode()
    summary: dict[str, list[float]] = defaultdict(list)
    async with LifespanManager(ours) as manager, LifespanManager(lean):
        ways: dict[str, Call] = {
            "ours": lambda: _request(manager.app, body),
            "ours, no edge cursors": lambda: _request(manager.app, without_cursors),
            "lean": lambda: _lean_request(lean, query_string),
        }
        for name, call in ways.items():
            for _ in range(300):  # warm-up: plans, statements, pools
                answer = await call()
            if b'"errors"' in answer or (b'"edges"' not in answer and b'"items"' not in answer):
                raise SystemExit(f"{name}: {answer[:300]!r}")
        for number in range(rounds):
            timed = await _round(ways, requests)
            cells = []
            for name, samples in timed.items():
                for index, kind in enumerate(("CPU", "wall")):
                    values = [sample[index] for sample in samples]
                    summary[f"{name} {kind} median"].append(statistics.median(values))
                    summary[f"{name} {kind} p95"].append(_p95(values))
                    cells.append(
                        f"{name} {kind} {statistics.median(values):.0f} / {_p95(values):.0f}"
                    )
            print(f"round {number + 1}: " + ", ".join(cells), file=sys.__stdout__)
    print(
        f"\n{requests} requests a way a round, {rounds} rounds; µs a request:", file=sys.__stdout__
    )
    print("| way | CPU median | CPU p95 | wall median | wall p95 |", file=sys.__stdout__)
    print("|---|---|---|---|---|", file=sys.__stdout__)
    for name in ways:
        cells = [
            f"{min(summary[f'{name} {stat}']):.0f} to {max(summary[f'{name} {stat}']):.0f}"
            for stat in ("CPU median", "CPU p95", "wall median", "wall p95")
        ]
        print(f"| {name} | " + " | ".join(cells) + " |", file=sys.__stdout__)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "RARE_TAG" not in os.environ:
        raise SystemExit("set DATABASE_URL and RARE_TAG (see the docstring)")
    as_served()
    uvloop.run(main(args.requests, args.rounds, os.environ["RARE_TAG"]))
