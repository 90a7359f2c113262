"""Time per request of the GraphQL endpoint in process (httpx's ASGI transport, no
network, one request at a time), to compare revisions of the request handling
(docs/benchmarks.md, "The GraphQL-over-HTTP layer").

Uses the embedded cluster's database (seed it first) with production settings:

    export GALLERY_GQL_HOME=/tmp/overhead
    .venv/bin/gallery-gql migrate && .venv/bin/gallery-gql seed --items 20000
    .venv/bin/python scripts/http_overhead.py --requests 2000

Run from another checkout's root with `PYTHONPATH=.` (and this file's path) to time that
revision on the same data. Reports, per case, p50 and p95 of the wall time and the CPU
time per request (client and server: both run in this process).

`--parts` times instead, without a database, what the GraphQL-over-HTTP layer adds to a
request: choosing the media type, the page-size walk of a grid document, picking its
operation (best of 5 repeats of 100,000 calls each).
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from typing import Any

import httpx
import uvloop
from asgi_lifespan import LifespanManager

from gallery_gql.app import create_app
from gallery_gql.observability.logs import configure_logging
from gallery_gql.settings import Settings

GRID = "id title thumbnail createdAt source qualityScore"
CASES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "typename": ({"query": "{ __typename }"}, {}),
    "typename, graphql-response+json": (
        {"query": "{ __typename }"},
        {"accept": "application/graphql-response+json"},
    ),
    "grid page of 25": (
        {"query": f"{{ contentItems(first: 25) {{ edges {{ cursor node {{ {GRID} }} }} }} }}"},
        {},
    ),
    "syntax error": ({"query": "{ contentItems("}, {}),
}


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _measure(http: httpx.AsyncClient, requests: int) -> dict[str, tuple[float, float, float]]:
    results = {}
    for name, (body, headers) in CASES.items():
        for _ in range(max(50, requests // 10)):  # warm caches (parser, validation, plans)
            await http.post("/graphql", json=body, headers=headers)
        walls: list[float] = []
        cpu_started = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            response = await http.post("/graphql", json=body, headers=headers)
            walls.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
        cpu = (time.process_time() - cpu_started) / requests
        results[name] = (
            statistics.median(walls) * 1e6,
            _percentile(walls, 0.95) * 1e6,
            cpu * 1e6,
        )
    return results


async def main(requests: int) -> None:
    configure_logging("WARNING")  # the per-operation line would swamp the table
    app = create_app(Settings(environment="production", rate_limit=""))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            results = await _measure(http, requests)
    print(f"{'case':34} {'p50 us':>8} {'p95 us':>8} {'CPU us':>8}")
    for name, (p50, p95, cpu) in results.items():
        print(f"{name:34} {p50:8.0f} {p95:8.0f} {cpu:8.0f}")


def parts() -> None:
    from graphql import OperationDefinitionNode, parse

    from gallery_gql.api.operation_resolution import operation_problem
    from gallery_gql.api.paging import page_size_errors
    from gallery_gql.web.graphql_http.accept import negotiate

    document = parse(
        f"query Grid($first: Int, $after: Cursor) {{ contentItems(first: $first, after: $after)"
        f" {{ edges {{ cursor node {{ {GRID} tags {{ name }} creator {{ username }} }} }}"
        " pageInfo { hasNextPage endCursor } } }"
    )
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    apollo = "application/graphql-response+json,application/json;q=0.9"
    calls = 100_000
    for name, call in {
        "media type, no Accept": lambda: negotiate(None),
        "media type, Apollo's Accept": lambda: negotiate(apollo),
        "page sizes of a grid document": lambda: page_size_errors(
            operation, {}, {"first": 25, "after": None}, 100
        ),
        "operation of a grid document": lambda: operation_problem(document, None),
    }.items():
        seconds = min(timeit.repeat(call, number=calls, repeat=5)) / calls
        print(f"{name:34} {seconds * 1e6:8.2f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests a case")
    parser.add_argument("--parts", action="store_true", help="time the layer's parts only")
    arguments = parser.parse_args()
    if arguments.parts:
        parts()
    else:
        uvloop.run(main(arguments.requests))
