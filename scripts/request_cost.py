"""CPU per request of the app itself, in process: raw ASGI calls (no HTTP client, no
server), a grid page of 25 (docs/benchmarks.md, "Request cost").

Builds the app as `serve` does (production settings, JSON logs to /dev/null), then
alternates rounds with the compiled path on and off, and prints each round's CPU
milliseconds per request (this process: the app, the driver, the event loop) and wall
milliseconds. `--profile` prints cProfile's top functions of one more round (CPU time),
by cumulative time: where a request's CPU goes, layer by layer.

    DATABASE_URL=$(GALLERY_GQL_HOME=/tmp/full .venv/bin/gallery-gql db url) \\
        .venv/bin/python scripts/request_cost.py --requests 1500 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from typing import Any

import orjson
import uvloop
from asgi_lifespan import LifespanManager

DOCUMENT = """query Grid($tags: [ID!], $match: TagMatchMode!) {
  contentItems(tags: $tags, match: $match, first: 25) {
    edges { cursor node { id title thumbnail createdAt source qualityScore } }
    pageInfo { hasNextPage endCursor }
  }
}"""
BODY = orjson.dumps({"query": DOCUMENT, "variables": {"tags": [], "match": "ANY"}})


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _request(app: Any, body: bytes = BODY) -> bytes:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(60)  # no disconnect while the response is written
        return {"type": "http.disconnect"}

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(_scope(body), receive, send)
    return bytes(messages[-1].get("body", b""))


async def _round(app: Any, requests: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        await _request(app)
    return (
        (time.process_time() - cpu) / requests * 1000,
        (time.perf_counter() - wall) / requests * 1000,
    )


async def main(requests: int, rounds: int, profile: bool) -> None:
    from gallery_gql.app import create_served_app
    from gallery_gql.settings import get_settings

    apps = {}
    for compiled in (True, False):
        os.environ["GALLERY_GQL_COMPILED_DOCUMENTS"] = str(compiled).lower()
        get_settings.cache_clear()
        apps["compiled" if compiled else "general"] = create_served_app()
    async with LifespanManager(apps["compiled"]) as fast, LifespanManager(apps["general"]) as slow:
        served = {"compiled": fast.app, "general": slow.app}
        for name, app in served.items():
            for _ in range(200):  # warm-up: plans, statements, pools
                body = await _request(app)
            if b'"errors"' in body:
                raise SystemExit(f"{name}: {body[:300]!r}")
        for number in range(rounds):
            for name, app in served.items():
                cpu, wall = await _round(app, requests)
                print(f"round {number + 1}, {name}: {cpu:.3f} ms CPU, {wall:.3f} ms wall a request")
        if profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            await _round(served["compiled"], requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())


def as_served() -> None:
    """This process set up as `serve` runs the app: production settings, no rate limit (one
    client sends every request), a secret unless one is set, and the JSON log lines sent
    to /dev/null for the run."""
    os.environ.setdefault("GALLERY_GQL_SECRET", "request-cost-" + "x" * 32)
    os.environ.update(GALLERY_GQL_ENVIRONMENT="production", GALLERY_GQL_RATE_LIMIT="")
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the JSON log lines, for the run


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one more round")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (see the docstring)")
    as_served()
    uvloop.run(main(args.requests, args.rounds, args.profile))
