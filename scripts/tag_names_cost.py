"""The cost of the bench's heaviest page, "25 + tag names, 1 tag" (a grid page of 25 items
of the most common tag, each with `tags { name }`), in two or more checkouts, alternated
(docs/benchmarks.md, "Tag names on a page").

Each checkout's app runs in its own process (`PYTHONPATH` = the checkout), built as
`serve` builds it (production settings, the compiled path on); rounds alternate between
the checkouts, and each round reports every request's wall time (median, p95) and the
process's CPU per request; the checkouts' answers must be the same bytes. `--http`
measures the page served (`gallery-gql serve`, one worker per checkout, all up at once)
by one client: HTTP p50, p95. `--mix 8` runs the bench's full mix (every anonymous class
in turn) in a closed loop of 8 clients against each checkout served by 2 workers, as
`gallery-gql bench` does: req/s. `--profile` prints cProfile's top functions (own time)
of one round of this checkout, in process.

    git archive <commit> | tar -x -C /tmp/tag-names-base
    export DATABASE_URL=$(GALLERY_GQL_HOME=/tmp/full .venv/bin/gallery-gql db url)
    flock /tmp/bench.lock .venv/bin/python scripts/tag_names_cost.py \
        --checkout before=/tmp/tag-names-base --checkout after=. --rounds 5 --requests 200
    flock /tmp/bench.lock .venv/bin/python scripts/tag_names_cost.py --http \
        --checkout before=/tmp/tag-names-base --checkout after=. --rounds 4 --requests 200
    flock /tmp/bench.lock .venv/bin/python scripts/tag_names_cost.py --mix 8 \
        --checkout before=/tmp/tag-names-base --checkout after=. --rounds 3
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from request_cost import _request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.ops.bench.classes import build_classes, load_corpus
from gallery_gql.ops.bench.database import tag_ids
from gallery_gql.ops.bench.http import cycle, free_port, load, prepared_request, serving

GRID = "id title thumbnail createdAt source qualityScore"
DOCUMENT = f"""query Bench($tags: [ID!], $match: TagMatchMode!, $exclude: [ID!],
  $creator: CreatorFilter, $collections: [ContentCollection!], $sort: ContentSort!,
  $first: Int, $cursor: Cursor, $last: Int, $before: Cursor) {{
  contentItems(tags: $tags, match: $match, excludeTags: $exclude, creator: $creator,
               collections: $collections, sort: $sort, first: $first, cursor: $cursor,
               last: $last, before: $before) {{
    edges {{ cursor node {{ {GRID} tags {{ name }} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""
"""The bench's document (ops/bench/http.py `document()`) for a class with tag names."""

MOST_COMMON_TAG = text(
    "SELECT t.id FROM tag_counts c JOIN tags t USING (tag_key)"
    " GROUP BY t.id, c.tag_key HAVING sum(c.items) > 0 ORDER BY sum(c.items) DESC, c.tag_key"
    " LIMIT 1"
)


async def request_body(database_url: str) -> bytes:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            tag = await conn.scalar(MOST_COMMON_TAG)
    finally:
        await engine.dispose()
    variables: dict[str, Any] = {"tags": [str(tag)], "match": "ANY", "exclude": []}
    variables |= {"creator": None, "collections": None, "sort": "NEWEST", "first": 25}
    return orjson.dumps({"query": DOCUMENT, "variables": variables})


# -- one checkout's app, in process (`--serve-rounds`) ------------------------------------
async def _timed(app: Any, body: bytes, requests: int) -> dict[str, Any]:
    walls = []
    cpu = time.process_time()
    for _ in range(requests):
        start = time.perf_counter_ns()
        await _request(app, body)
        walls.append((time.perf_counter_ns() - start) / 1e6)
    return {"cpu": (time.process_time() - cpu) / requests * 1000, "walls": walls}


async def serve_rounds(body: bytes, requests: int, profile: bool) -> None:
    """Read a line per round from stdin, answer with the round's timings as JSON."""
    from asgi_lifespan import LifespanManager

    from gallery_gql.app import create_served_app

    async with LifespanManager(create_served_app()) as manager:
        app = manager.app
        for _ in range(100):  # warm-up: plans, statements, pools
            answer = await _request(app, body)
        if b'"errors"' in answer or b'"name"' not in answer:
            print(f"unexpected answer: {answer[:300]!r}", file=sys.__stderr__)
            raise SystemExit(1)
        digest = hashlib.sha256(answer).hexdigest()[:16]
        print(orjson.dumps({"bytes": len(answer), "sha256": digest}).decode(), flush=True)
        if profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            await _timed(app, body, requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
            print(out.getvalue(), file=sys.__stdout__)
            return
        while sys.stdin.readline():
            print(orjson.dumps(await _timed(app, body, requests)).decode(), flush=True)


# -- the driver ---------------------------------------------------------------------------
def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _checkout_env(path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(path.resolve())}


def _answer(worker: subprocess.Popen[str], ask: str = "") -> dict[str, Any]:
    """A line of JSON from a `--serve-rounds` process, after sending it `ask`."""
    assert worker.stdin is not None
    assert worker.stdout is not None
    if ask:
        worker.stdin.write(ask)
        worker.stdin.flush()
    line = worker.stdout.readline()
    if not line:
        raise SystemExit(f"a checkout's process ended (status {worker.wait()})")
    answer: dict[str, Any] = orjson.loads(line)
    return answer


def in_process(checkouts: dict[str, Path], requests: int, rounds: int) -> None:
    workers = {
        name: subprocess.Popen(  # noqa: S603 - this script, in another checkout
            [sys.executable, __file__, "--serve-rounds", "--requests", str(requests)],
            env=_checkout_env(path),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, path in checkouts.items()
    }
    try:
        answers = {name: _answer(worker) for name, worker in workers.items()}
        print(f"answers: {answers}")
        if len({answer["sha256"] for answer in answers.values()}) > 1:
            raise SystemExit("the checkouts answer differently")
        walls: dict[str, list[float]] = {name: [] for name in workers}
        for number in range(rounds):
            for name, worker in workers.items():
                timing = _answer(worker, "go\n")
                walls[name].extend(timing["walls"])
                print(
                    f"round {number + 1}, {name}: {timing['cpu']:.3f} ms CPU a request; wall"
                    f" median {statistics.median(timing['walls']):.3f},"
                    f" p95 {_percentile(timing['walls'], 0.95):.3f} ms"
                )
        for name, values in walls.items():
            print(
                f"all rounds, {name}: wall median {statistics.median(values):.3f},"
                f" p95 {_percentile(values, 0.95):.3f} ms ({len(values)} requests)"
            )
    finally:
        for worker in workers.values():
            worker.communicate(timeout=30)


def _servers(stack: ExitStack, checkouts: dict[str, Path], workers: int) -> dict[str, str]:
    """Each checkout served (`gallery-gql serve`), all at once: base URLs by name."""
    bases = {}
    for name, path in checkouts.items():
        port = free_port()
        # -P: not the working directory's package, the checkout's (PYTHONPATH)
        command = [sys.executable, "-P", "-m", "gallery_gql", "serve", "--port", str(port)]
        env = _checkout_env(path) | {"GALLERY_GQL_RATE_LIMIT": ""}
        bases[name] = stack.enter_context(serving([*command, "--workers", str(workers)], env, port))
    return bases


def over_http(checkouts: dict[str, Path], body: bytes, requests: int, rounds: int) -> None:
    with ExitStack() as stack:
        bases = _servers(stack, checkouts, 1)
        headers = {"content-type": "application/json"}
        clients = {name: stack.enter_context(httpx.Client(base_url=b)) for name, b in bases.items()}
        for client in clients.values():
            for _ in range(100):
                response = client.post("/graphql", content=body, headers=headers)
            if response.status_code != 200 or b'"errors"' in response.content:
                raise SystemExit(f"unexpected answer: {response.content[:300]!r}")
        walls: dict[str, list[float]] = {name: [] for name in clients}
        for number in range(rounds):
            for name, client in clients.items():
                timings = []
                for _ in range(requests):
                    start = time.perf_counter_ns()
                    client.post("/graphql", content=body, headers=headers)
                    timings.append((time.perf_counter_ns() - start) / 1e6)
                walls[name].extend(timings)
                print(
                    f"round {number + 1}, {name}: HTTP p50 {statistics.median(timings):.3f},"
                    f" p95 {_percentile(timings, 0.95):.3f} ms"
                )
        for name, values in walls.items():
            print(
                f"all rounds, {name}: HTTP p50 {statistics.median(values):.3f},"
                f" p95 {_percentile(values, 0.95):.3f} ms ({len(values)} requests)"
            )


async def _mix_bodies(base: str, database_url: str) -> list[dict[str, Any]]:
    """The bench's full mix: every anonymous class's request (ops/bench/run.py)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            corpus, ids = await load_corpus(conn), await tag_ids(conn)
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return [
            await prepared_request(client, query, ids)
            for query in build_classes(corpus)
            if not query.signed_in
        ]


def mix_load(checkouts: dict[str, Path], clients: int, seconds: float, rounds: int) -> None:
    """The full mix in a closed loop at `clients`, each checkout served by 2 workers, as
    `gallery-gql bench` serves it; rounds alternate between the checkouts."""
    with ExitStack() as stack:
        bases = _servers(stack, checkouts, 2)
        url = os.environ["DATABASE_URL"]
        mixes = {name: uvloop.run(_mix_bodies(base, url)) for name, base in bases.items()}
        rates: dict[str, list[float]] = {name: [] for name in bases}
        for number in range(rounds):
            for name, base in bases.items():
                result = uvloop.run(load(f"{base}/graphql", cycle(mixes[name]), clients, seconds))
                rates[name].append(result.rate)
                print(
                    f"round {number + 1}, {name}: {result.rate:.0f} req/s at {clients} clients,"
                    f" p50 {result.latency.p50:.2f}, p95 {result.latency.p95:.2f} ms,"
                    f" errors {sum(result.errors.values())}"
                )
        for name, values in rates.items():
            print(f"all rounds, {name}: median {statistics.median(values):.0f} req/s {values}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", default=[], help="NAME=PATH")
    parser.add_argument("--requests", type=int, default=300, help="requests a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--http", action="store_true", help="served, one client")
    parser.add_argument("--mix", type=int, metavar="CLIENTS", help="the full mix, served")
    parser.add_argument("--seconds", type=float, default=10.0, help="--mix: of each round")
    parser.add_argument("--profile", action="store_true", help="cProfile this checkout")
    parser.add_argument("--serve-rounds", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (see the docstring)")
    if args.requests * args.rounds > 20_000:
        raise SystemExit("at most 20,000 requests a checkout")
    os.environ.setdefault("GALLERY_GQL_SECRET", "tag-names-cost-" + "x" * 32)
    os.environ.update(GALLERY_GQL_ENVIRONMENT="production", GALLERY_GQL_RATE_LIMIT="")
    body = uvloop.run(request_body(os.environ["DATABASE_URL"]))
    if args.serve_rounds or args.profile:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the JSON log lines, for the run
        uvloop.run(serve_rounds(body, args.requests, args.profile))
        return
    checkouts = {name: Path(path) for name, path in (spec.split("=", 1) for spec in args.checkout)}
    if not checkouts:
        raise SystemExit("name at least one --checkout NAME=PATH")
    if args.mix:
        mix_load(checkouts, args.mix, min(args.seconds, 30.0), args.rounds)
    elif args.http:
        over_http(checkouts, body, args.requests, args.rounds)
    else:
        in_process(checkouts, args.requests, args.rounds)


if __name__ == "__main__":
    main()
