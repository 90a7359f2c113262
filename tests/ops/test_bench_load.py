"""The bench's closed-loop load generator against the served app: it sends what it is
given, stops at its bounds, and counts every error by its code."""

from __future__ import annotations

from gallery_gql.ops.bench.http import cycle, load, served

PAGE = {"query": "{ contentItems(first: 2) { edges { cursor } } }"}
INVALID = {"query": "{ contentItems(first: 2) { nope } }"}
BAD_INPUT = {"query": '{ contentItems(first: 2, cursor: "x") { edges { cursor } } }'}


async def test_load_counts_requests_and_errors(database_url: str) -> None:
    with served(database_url, "load-secret-" + "x" * 30, workers=1) as base:
        result = await load(
            f"{base}/graphql", cycle([PAGE, INVALID, PAGE, BAD_INPUT]), 3, 60, max_requests=20
        )
        unreachable = await load("http://127.0.0.1:9/graphql", cycle([PAGE]), 2, 60, max_requests=4)
    assert result.requests == 20
    assert result.errors == {"GRAPHQL_VALIDATION_FAILED": 5, "BAD_USER_INPUT": 5}
    assert result.latency.p50 > 0
    assert unreachable.requests == 4
    assert sum(unreachable.errors.values()) == 4
