"""`gallery-gql bench` end to end at a small scale: it seeds an empty database, measures
every class three ways and under load, and reports them all, without a failed request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gallery_gql.ops.bench.database import APPROACHES
from gallery_gql.ops.bench.peer import CLASSES, SIGNED_IN, TARGETS
from gallery_gql.ops.bench.peer_server import unavailable
from gallery_gql.ops.bench.report import _ratio, render
from gallery_gql.ops.bench.run import BenchOptions, run_bench

OPTIONS = BenchOptions(
    items=3_000,
    iterations=5,
    baseline_iterations=1,
    load_clients=(1, 4),
    load_seconds=0.5,
    workers=1,
    peer=False,
)


async def test_a_small_bench_reports_every_class(database_url: str) -> None:
    stages: set[str] = set()
    report = await run_bench(database_url, OPTIONS, lambda stage, *_: stages.add(stage))
    assert stages >= {"items", "links", "database", "http", "load"}
    names = [result.query.name for result in report.database]
    assert len(names) == len(set(names)) >= 22
    assert set(report.http) == set(names)
    assert all(result.strategy for result in report.database)
    for loop in (*report.load, *report.grid_load):
        assert loop.requests > 0
        assert loop.errors == {}, loop
    assert [loop.clients for loop in report.grid_load] == [1, 4]
    # The lean REST endpoint answered our pages (the run stops on any other), under load too.
    assert [result.query.name for result in report.lean] == [
        "no filter",
        "1 rare tag",
        "ALL 2 rare",
        "rare tag + exclude",
        "TOP_RATED rare",
    ]
    for result in report.lean:
        assert all(loop.requests > 0 and loop.errors == {} for loop in result.load.values())
    markdown = render(report)
    for name in names:
        assert f"| {name} |" in markdown
    assert "- dataset: " in markdown
    assert "| TOP_RATED rare (tag on " in markdown.split("### Lean REST reference")[1]
    for approach in APPROACHES[1:]:  # each of Genonaut's approaches on its own worst class
        assert f"{approach}: worst class " in markdown


def test_ratios_below_ten_keep_two_digits() -> None:
    assert [_ratio(v) for v in (0.437, 2.5, 12.4, 1_640.2)] == ["0.44x", "2.5x", "12x", "1,640x"]


@pytest.mark.skipif(unavailable() is not None, reason=f"PostGraphile: {unavailable()}")
async def test_a_small_bench_compares_the_peer_on_the_same_pages(database_url: str) -> None:
    """The peer's classes (first, deep and rated pages, signed in too) answer our pages
    in both forms (the run stops on any other page), and every target serves the load."""
    options = replace(OPTIONS, load_clients=(2,), peer=True)
    report = await run_bench(database_url, options, lambda *_: None)
    assert report.peer is not None
    names = [result.name for result in report.peer.classes]
    assert names == [*CLASSES, *(f"signed in: {name}" for name in SIGNED_IN)]
    for result in report.peer.classes:
        assert set(result.agrees.values()) == {"yes"}, result
        assert all(summary is not None for summary in result.timings.values()), result
    for target in TARGETS:
        [loop] = report.peer.load[target]
        assert loop.requests > 0
        assert loop.errors == {}, (target, loop)
    assert "| signed in: 1 popular tag |" in render(report)
