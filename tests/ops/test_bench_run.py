"""`gallery-gql bench` end to end at a small scale: it seeds an empty database, measures
every class three ways and under load, and reports them all, without a failed request."""

from __future__ import annotations

from gallery_gql.ops.bench.report import render
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
    markdown = render(report)
    for name in names:
        assert f"| {name} |" in markdown
    assert "- dataset: " in markdown
