"""The measuring commands: bench and loadtest (their HTTP clients are the `bench` extra)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gallery_gql.cli.common import EXIT_FAILURE, console, database_url, fail
from gallery_gql.ops.progress import stage_progress
from gallery_gql.settings import get_settings


def _require_bench_extra() -> None:
    """The load tools' clients come with the `bench` extra, not with the gateway."""
    try:
        import aiohttp  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as exc:
        raise fail(
            f"this command needs the bench extra ({exc.name} is missing): "
            "pip install 'gallery-gql[bench]'"
        ) from exc


def bench(
    profile: Annotated[
        str, typer.Option(help="Seed profile when the database is empty.")
    ] = "genonaut",
    items: Annotated[
        int,
        typer.Option(min=1, help="Items to seed when empty (1170000 reproduces Genonaut's size)."),
    ] = 100_000,
    iterations: Annotated[int, typer.Option(min=5, help="Timed runs per class.")] = 50,
    baseline_iterations: Annotated[
        int, typer.Option(min=1, help="Timed runs per class for Genonaut's slow baselines.")
    ] = 5,
    http: Annotated[bool, typer.Option(help="Also measure through HTTP and under load.")] = True,
    load_seconds: Annotated[float, typer.Option(help="Seconds per load level.")] = 10.0,
    workers: Annotated[int, typer.Option(min=1, help="Server worker processes.")] = 2,
    peer: Annotated[
        bool | None,
        typer.Option(
            "--peer/--no-peer",
            help="Also run PostGraphile on the same classes and load (default: when "
            "`make peer-deps` has installed it).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Append the report to this file.")] = None,
) -> None:
    """Benchmark the query mix: database layer vs Genonaut's approaches, HTTP, load, peer."""
    import shlex
    import sys

    _require_bench_extra()
    from gallery_gql.ops.bench.report import render
    from gallery_gql.ops.bench.run import BenchOptions, peer_skip_reason, run

    options = BenchOptions(
        profile=profile,
        items=items,
        iterations=iterations,
        baseline_iterations=baseline_iterations,
        http=http,
        load_seconds=load_seconds,
        workers=workers,
        peer=peer,
        command=shlex.join(["gallery-gql", *sys.argv[1:]]),
    )
    skip_peer = peer_skip_reason(options)
    if skip_peer and peer:
        raise fail(f"--peer: {skip_peer}")
    if skip_peer and peer is None:
        console.print(f"peer (PostGraphile) skipped: {skip_peer}")
    with stage_progress(console) as report:
        result = run(database_url(get_settings()), options, report)
    text = render(result)
    print(text)
    if output is not None:
        with output.open("a") as handle:
            handle.write("\n" + text)


def loadtest(
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="How long to run.")] = 60,
    clients: Annotated[int, typer.Option(min=1, max=256, help="Concurrent clients.")] = 8,
    fault_after: Annotated[
        float | None,
        typer.Option(
            help="Restart the embedded PostgreSQL after this many seconds (off when unset)."
        ),
    ] = None,
    replicas: Annotated[
        int,
        typer.Option(
            min=0, max=8, help="Read from this many streaming replicas of the embedded cluster."
        ),
    ] = 0,
    replica_fault_after: Annotated[
        float | None,
        typer.Option(help="Kill replica 1 after this many seconds, start it 2 s later."),
    ] = None,
) -> None:
    """Mixed reads and mutations against the served app (loopback), optionally with a
    database restart; then checks that every acknowledged create exists. Needs the
    embedded cluster (use a throwaway GALLERY_GQL_HOME with seeded data)."""
    _require_bench_extra()
    from gallery_gql.ops.loadtest import render_load_test, run_load_test

    settings = get_settings()
    if settings.database_url:
        raise fail("loadtest restarts the embedded cluster: unset DATABASE_URL")
    url = database_url(settings)
    result = asyncio.run(
        run_load_test(
            url, str(settings.home), seconds, clients, fault_after, replicas, replica_fault_after
        )
    )
    print(render_load_test(result))
    if result.missing_creates:
        raise typer.Exit(EXIT_FAILURE)
