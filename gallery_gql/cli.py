"""The `gallery-gql` command line: parses flags and calls the modules that do the work."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from gallery_gql.db.embedded import EmbeddedCluster, EmbeddedError
from gallery_gql.db.engine import resolve_database_url, resolve_replica_urls
from gallery_gql.ops.progress import stage_progress
from gallery_gql.secret_file import SecretError
from gallery_gql.settings import Settings, get_settings

app = typer.Typer(
    help="gallery-gql: a GraphQL gateway for a gallery of generated images.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="The embedded PostgreSQL cluster (used when DATABASE_URL is unset).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
console = Console(stderr=True)
stdout = Console()  # reports; progress bars and errors go to stderr
EXIT_FAILURE = 1


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(EXIT_FAILURE)


def _database_url(settings: Settings) -> str:
    if not settings.database_url:
        _cluster()  # says where the embedded cluster lives when it is not under HOME
    try:
        return resolve_database_url(settings)
    except EmbeddedError as exc:
        raise _fail(str(exc)) from exc


def _cluster() -> EmbeddedCluster:
    cluster = EmbeddedCluster(get_settings().home)
    note = cluster.location_note()
    if note:
        console.print(note)
    return cluster


@db_app.command("start")
def db_start(
    replicas: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=8,
            help="Run this many streaming replicas beside it (made on first use; 0 deletes "
            "them). Default: start the replicas there are.",
        ),
    ] = None,
) -> None:
    """Create (on first use) and start the embedded cluster and its replicas; print the
    primary's URL, then each replica's."""
    from gallery_gql.db.embedded_replicas import start_replicas

    cluster = _cluster()
    try:
        print(cluster.start())
        for url in start_replicas(cluster, replicas):
            print(url)
    except EmbeddedError as exc:
        raise _fail(str(exc)) from exc


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster and its replicas."""
    from gallery_gql.db.embedded_replicas import stop_replicas

    cluster = _cluster()
    replicas = stop_replicas(cluster)
    stopped = cluster.stop()
    console.print("stopped" if stopped else "not running")
    if replicas:
        console.print(f"stopped {replicas} replica{'s' if replicas > 1 else ''}")


@db_app.command("status")
def db_status() -> None:
    """Whether the embedded cluster runs (exit code 0) or not (3), and each replica's
    state and replay lag."""
    from gallery_gql.db.embedded_replicas import replica_statuses

    cluster = _cluster()
    status = cluster.status()
    state = "running" if status.running else ("stopped" if status.initialized else "absent")
    print(f"{state} data={status.data_dir} port={status.port or '-'}")
    for replica in replica_statuses(cluster):
        line = f"replica {replica.index} {'running' if replica.running else 'stopped'}"
        line += f" port={replica.port or '-'}"
        if replica.lag_bytes is not None and replica.lag_ms is not None:
            line += f" lag={replica.lag_bytes}B/{replica.lag_ms:.0f}ms"
        if replica.paused:
            line += " replay=paused"
        print(line)
    if not status.running:
        raise typer.Exit(3)


@db_app.command("url")
def db_url(
    replica: Annotated[
        int | None, typer.Option(min=1, help="Print this embedded replica's URL instead.")
    ] = None,
) -> None:
    """Print the database URL the other commands use (DATABASE_URL wins), or a replica's."""
    from gallery_gql.db.embedded_replicas import replica_url

    settings = get_settings()
    try:
        if replica is not None:
            print(replica_url(_cluster(), replica))
        else:
            print(resolve_database_url(settings, start_embedded=False))
    except EmbeddedError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema to a revision (alembic upgrade)."""
    from gallery_gql.db.migrate import upgrade

    url = _database_url(get_settings())
    upgrade(url, revision)
    console.print(f"migrated to {revision}")


def _run_seed(
    url: str, profile: str, items: int, users: int | None, seed: int, media: bool | None
) -> None:
    from gallery_gql.ops.media.files import AUTO_MEDIA_ITEMS
    from gallery_gql.ops.seed.plan import SeedError, SeedPlan
    from gallery_gql.ops.seed.run import seed_database

    plan = SeedPlan(profile=profile, items=items, users=users, seed=seed)  # type: ignore[arg-type]
    with stage_progress(console) as report:
        try:
            result = asyncio.run(seed_database(url, plan, report))
        except SeedError as exc:
            raise _fail(str(exc)) from exc
    console.print(
        f"seeded {result.users:,} users, {result.tags:,} tags, "
        f"{result.regular_items:,} regular + {result.auto_items:,} auto items, "
        f"{result.links:,} links in {result.seconds:.1f}s"
    )
    if media is None:
        media = items <= AUTO_MEDIA_ITEMS
        if not media:
            console.print(
                f"no thumbnail files: more than {AUTO_MEDIA_ITEMS:,} items "
                "(`seed --media` or `gallery-gql media` writes them)"
            )
    if media:
        _write_media(url)


def _media_home() -> Path:
    return get_settings().home.expanduser().resolve() / "media"


def _write_media(url: str) -> None:
    from gallery_gql.ops.media.files import write_item_media

    root = _media_home()
    with stage_progress(console) as report:
        result = asyncio.run(write_item_media(url, root, report))
    console.print(f"{result.summary(root)}\nserve them with GALLERY_GQL_MEDIA_ROOT={root}")


@app.command()
def seed(
    profile: Annotated[
        str, typer.Option(help="genonaut (real distribution) or zipf (long tail).")
    ] = "genonaut",
    items: Annotated[int, typer.Option(min=1, help="Items across both sources.")] = 10_000,
    users: Annotated[int | None, typer.Option(min=1, help="Users (default: from items).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    media: Annotated[
        bool | None,
        typer.Option(
            "--media/--no-media",
            help="Write thumbnail files under $GALLERY_GQL_HOME/media "
            "(default: up to 100,000 items).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fill an empty database with deterministic synthetic gallery data (and, up to
    100,000 items, generated thumbnail files for it)."""
    if profile not in ("genonaut", "zipf"):
        raise _fail("--profile must be genonaut or zipf")
    _run_seed(_database_url(get_settings()), profile, items, users, seed, media)


@app.command("media")
def media_command() -> None:
    """Write generated thumbnail files for every item in the database under
    $GALLERY_GQL_HOME/media (what `seed` does; for a database seeded without them)."""
    _write_media(_database_url(get_settings()))


BACKFILL_SOURCES = ("regular", "auto", "both")


def _run_verify(url: str, fix: bool, batch_size: int, show: int) -> bool:
    from gallery_gql.ops.verify import render, verify

    with stage_progress(console) as report:
        result = asyncio.run(
            verify(url, fix=fix, batch_size=batch_size, show=show, progress=report)
        )
    render(result, stdout)
    return result.clean


@app.command("backfill")
def backfill_command(
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Items per batch (one transaction each).")
    ] = 250,
    throttle_ms: Annotated[int, typer.Option(min=0, help="Pause between batches (ms).")] = 0,
    source: Annotated[str, typer.Option(help="regular, auto or both.")] = "both",
    reset: Annotated[bool, typer.Option(help="Start again from the first item.")] = False,
    verify_after: Annotated[
        bool, typer.Option("--verify", help="Run `verify` when done (exit 1 on mismatches).")
    ] = False,
) -> None:
    """Write the junction rows (and tag counts) the items' tag arrays call for, online and
    resumably: each batch of items is one transaction with its checkpoint."""
    from gallery_gql.gallery.keys import Source
    from gallery_gql.ops.backfill import backfill, render

    if source not in BACKFILL_SOURCES:
        raise _fail("--source must be regular, auto or both")
    sources = list(Source) if source == "both" else [Source[source.upper()]]
    url = _database_url(get_settings())
    with stage_progress(console) as report:
        result = asyncio.run(
            backfill(
                url,
                batch_size=batch_size,
                throttle_ms=throttle_ms,
                sources=sources,
                reset=reset,
                progress=report,
            )
        )
    render(result, stdout)
    if verify_after and not _run_verify(url, fix=False, batch_size=5000, show=20):
        raise typer.Exit(EXIT_FAILURE)


@app.command("verify")
def verify_command(
    fix: Annotated[
        bool, typer.Option(help="Repair from the arrays (the source of truth) and recount.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Items per batch.")] = 5000,
    show: Annotated[int, typer.Option(min=0, help="Problems to list.")] = 20,
) -> None:
    """Report every disagreement between tag arrays, junction rows and tag counts.

    Exit code 0 when consistent (after --fix: when everything was repaired), 1 otherwise."""
    if not _run_verify(_database_url(get_settings()), fix, batch_size, show):
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the GraphQL API at /graphql with production defaults (set
    GALLERY_GQL_ENVIRONMENT=development for GraphiQL and introspection)."""
    from gallery_gql.server import GatewayServer
    from gallery_gql.web.media import MediaRootError, media_root

    # Production defaults (no GraphiQL, no introspection) unless the environment says so.
    os.environ.setdefault("GALLERY_GQL_ENVIRONMENT", "production")
    try:
        settings = get_settings()
        # Before the workers fork, so they all read one secret (generated here when unset).
        settings.signing_secret()
    except ValidationError as exc:  # a secret under 32 bytes in the environment
        raise _fail("; ".join(error["msg"] for error in exc.errors())) from exc
    except SecretError as exc:  # ... or in the file
        raise _fail(str(exc)) from exc
    # Resolve once here so worker processes share one database (and one embedded start),
    # and read from the same replicas (the embedded cluster's running ones by default).
    os.environ["DATABASE_URL"] = _database_url(settings)
    replicas = resolve_replica_urls(settings)
    os.environ["DATABASE_REPLICA_URLS"] = ",".join(replicas)
    get_settings.cache_clear()
    try:  # each worker would fail on it: say it once, before starting them
        media_root(get_settings())
    except MediaRootError as exc:
        raise _fail(str(exc)) from exc
    if replicas:
        console.print(f"reading from {len(replicas)} replica{'s' if len(replicas) > 1 else ''}")
    console.print(f"serving http://{host}:{port}/graphql")
    GatewayServer(host, port, workers).run()


@app.command()
def token(
    user: Annotated[str, typer.Argument(help="Username or user id.")],
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds.")] = None,
) -> None:
    """Mint a bearer token for a user (signed with the configured secret)."""
    from gallery_gql.auth import mint_token
    from gallery_gql.ops.users import find_user

    settings = get_settings()
    found = asyncio.run(find_user(_database_url(settings), user))
    if found is None:
        raise _fail(f"no user {user!r}")
    print(mint_token(found, settings, ttl_seconds=ttl))


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
) -> None:
    """Print the GraphQL schema (SDL); `make schema` writes schema.graphql."""
    from gallery_gql.api.sdl import schema_sdl

    sdl = schema_sdl()
    if output is None:
        print(sdl, end="")
    else:
        output.write_text(sdl)


@app.command()
def demo(
    items: Annotated[int, typer.Option(min=1, help="Items to seed when empty.")] = 20_000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    replicas: Annotated[
        int,
        typer.Option(min=0, max=8, help="Streaming replicas of the embedded cluster to read from."),
    ] = 1,
) -> None:
    """Start the database (embedded unless DATABASE_URL) and its replicas, migrate, seed if
    empty, serve."""
    from gallery_gql.db.embedded_replicas import start_replicas
    from gallery_gql.db.migrate import upgrade
    from gallery_gql.ops.seed.database import database_is_empty

    settings = get_settings()
    url = _database_url(settings)
    upgrade(url)
    if asyncio.run(database_is_empty(url)):
        _run_seed(url, "genonaut", items, None, 42, None)
    if not settings.database_url:
        try:
            start_replicas(_cluster(), replicas)
        except EmbeddedError as exc:
            raise _fail(str(exc)) from exc
    os.environ.setdefault("GALLERY_GQL_ENVIRONMENT", "development")  # GraphiQL for the demo
    media_home = _media_home()
    if settings.media_root is None and media_home.is_dir():
        os.environ["GALLERY_GQL_MEDIA_ROOT"] = str(media_home)
    elif settings.media_root is None:
        console.print(f"no thumbnail files under {media_home}: `gallery-gql media` writes them")
    serve(host=host, port=port, workers=1)


def _require_bench_extra() -> None:
    """The load tools' clients come with the `bench` extra, not with the gateway."""
    try:
        import aiohttp  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as exc:
        raise _fail(
            f"this command needs the bench extra ({exc.name} is missing): "
            "pip install 'gallery-gql[bench]'"
        ) from exc


@app.command()
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
        raise _fail(f"--peer: {skip_peer}")
    if skip_peer and peer is None:
        console.print(f"peer (PostGraphile) skipped: {skip_peer}")
    with stage_progress(console) as report:
        result = run(_database_url(get_settings()), options, report)
    text = render(result)
    print(text)
    if output is not None:
        with output.open("a") as handle:
            handle.write("\n" + text)


@app.command()
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
        raise _fail("loadtest restarts the embedded cluster: unset DATABASE_URL")
    url = _database_url(settings)
    result = asyncio.run(
        run_load_test(
            url, str(settings.home), seconds, clients, fault_after, replicas, replica_fault_after
        )
    )
    print(render_load_test(result))
    if result.missing_creates:
        raise typer.Exit(EXIT_FAILURE)


@app.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete idempotency keys older than 24 hours (run it daily)."""
    from gallery_gql.ops.maintenance import purge_idempotency

    removed = asyncio.run(purge_idempotency(_database_url(get_settings())))
    console.print(f"removed {removed:,} expired idempotency keys")


EXIT_DATABASE = 4


def main() -> None:
    """Entry point: database problems end with one clear line and exit code 4."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        app()
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        console.print(f"[red]error:[/red] invalid settings: {problems}")
        raise SystemExit(EXIT_FAILURE) from None
    except ArgumentError as exc:
        console.print(f"[red]error:[/red] DATABASE_URL is not a database URL: {exc}")
        raise SystemExit(EXIT_DATABASE) from None
    except (OSError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        console.print(f"[red]error:[/red] cannot use the database: {reason}")
        raise SystemExit(EXIT_DATABASE) from None
