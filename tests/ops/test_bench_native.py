"""wrk, the native load generator: it posts the GraphQL body it is given over keep-alive
connections, counts answers that are not 200 or carry errors, and the served
comparisons run it beside the Python generator against ours and PostGraphile."""

from __future__ import annotations

import pytest

from gallery_gql.ops.bench.http import served
from gallery_gql.ops.bench.native import AIOHTTP, WRK, run_wrk, wrk_unavailable
from gallery_gql.ops.bench.peer import FUNCTION, GENERIC, OURS
from gallery_gql.ops.bench.peer_server import unavailable
from gallery_gql.ops.bench.report_served import render_served
from gallery_gql.ops.bench.served import NATIVE_CLASSES, ServedOptions, run_served
from gallery_gql.ops.seed.plan import SeedPlan
from gallery_gql.ops.seed.run import seed_database

PAGE = {"query": "{ contentItems(first: 2) { edges { cursor } } }"}
INVALID = {"query": "{ contentItems(first: 2) { nope } }"}

pytestmark = pytest.mark.skipif(wrk_unavailable() is not None, reason=f"{wrk_unavailable()}")


async def test_wrk_counts_requests_and_failed_answers(database_url: str) -> None:
    with served(database_url, "native-secret-" + "x" * 30, workers=1) as base:
        good = run_wrk(f"{base}/graphql", PAGE, connections=2, seconds=1)
        bad = run_wrk(f"{base}/graphql", INVALID, connections=2, seconds=1)
    assert good.requests > 0
    assert good.errors == {}
    assert good.clients == 2
    assert 0 < good.latency.p50 <= good.latency.p99
    assert bad.errors == {"not 200 or errors": bad.requests}


@pytest.mark.skipif(unavailable() is not None, reason=f"PostGraphile: {unavailable()}")
async def test_served_comparisons_run_both_generators(database_url: str) -> None:
    await seed_database(database_url, SeedPlan(profile="genonaut", items=3_000), lambda *_: None)
    options = ServedOptions(peer=False, lean=False, native_seconds=1, rounds=1, workers=1)
    report = await run_served(database_url, options, lambda *_: None)
    assert {(r.name, r.target, r.generator) for r in report.native} == {
        (name, target, generator)
        for name in NATIVE_CLASSES
        for target in (OURS, GENERIC, FUNCTION)
        for generator in (WRK, AIOHTTP)
    }
    for result in report.native:
        [run] = result.runs
        assert run.requests > 0, result
        assert run.errors == {}, result
    assert "| ALL 2 | PostGraphile + our SQL function |" in render_served(report, [])
