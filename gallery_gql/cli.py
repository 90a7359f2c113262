"""The `gallery-gql` command line: parses flags and calls the modules that do the work."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gallery_gql.db.embedded import EmbeddedCluster, EmbeddedError
from gallery_gql.db.engine import resolve_database_url
from gallery_gql.ops.progress import stage_progress
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
EXIT_FAILURE = 1


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_FAILURE)


def _database_url(settings: Settings) -> str:
    try:
        return resolve_database_url(settings)
    except EmbeddedError as exc:
        raise _fail(str(exc)) from exc


def _cluster() -> EmbeddedCluster:
    return EmbeddedCluster(get_settings().home)


@db_app.command("start")
def db_start() -> None:
    """Create (on first use) and start the embedded cluster; print its URL."""
    try:
        print(_cluster().start())
    except EmbeddedError as exc:
        raise _fail(str(exc)) from exc


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    stopped = _cluster().stop()
    console.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Whether the embedded cluster runs (exit code 0) or not (3)."""
    status = _cluster().status()
    state = "running" if status.running else ("stopped" if status.initialized else "absent")
    print(f"{state} data={status.data_dir} port={status.port or '-'}")
    if not status.running:
        raise typer.Exit(3)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL the other commands use (DATABASE_URL wins)."""
    settings = get_settings()
    try:
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


def _run_seed(url: str, profile: str, items: int, users: int | None, seed: int) -> None:
    from gallery_gql.ops.seed import SeedError, SeedPlan, seed_database

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


@app.command()
def seed(
    profile: Annotated[
        str, typer.Option(help="genonaut (real distribution) or zipf (long tail).")
    ] = "genonaut",
    items: Annotated[int, typer.Option(min=1, help="Items across both sources.")] = 10_000,
    users: Annotated[int | None, typer.Option(min=1, help="Users (default: from items).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
) -> None:
    """Fill an empty database with deterministic synthetic gallery data."""
    if profile not in ("genonaut", "zipf"):
        raise _fail("--profile must be genonaut or zipf")
    _run_seed(_database_url(get_settings()), profile, items, users, seed)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the GraphQL API (and GraphiQL in development) at /graphql."""
    import uvicorn

    # Resolve once here so worker processes share one database (and one embedded start).
    os.environ["DATABASE_URL"] = _database_url(get_settings())
    get_settings.cache_clear()
    console.print(f"serving http://{host}:{port}/graphql")
    uvicorn.run(
        "gallery_gql.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
    )


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
) -> None:
    """Start the database (embedded unless DATABASE_URL), migrate, seed if empty, serve."""
    from gallery_gql.db.migrate import upgrade
    from gallery_gql.ops.seed import database_is_empty

    url = _database_url(get_settings())
    upgrade(url)
    if asyncio.run(database_is_empty(url)):
        _run_seed(url, "genonaut", items, None, 42)
    serve(host=host, port=port, workers=1)


def main() -> None:
    app()
