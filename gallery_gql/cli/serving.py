"""The serving commands: serve, token, export-schema, demo."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from gallery_gql.cli.common import console, database_url, embedded_cluster, fail
from gallery_gql.cli.data import run_seed, seed_media_root
from gallery_gql.db.embedded import EmbeddedError
from gallery_gql.db.engine import resolve_replica_urls
from gallery_gql.secret_file import SecretError
from gallery_gql.settings import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            help="Worker processes (default: GALLERY_GQL_WORKERS, else one per CPU).",
        ),
    ] = None,
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
        raise fail("; ".join(error["msg"] for error in exc.errors())) from exc
    except SecretError as exc:  # ... or in the file
        raise fail(str(exc)) from exc
    # Resolve once here so worker processes share one database (and one embedded start),
    # and read from the same replicas (the embedded cluster's running ones by default).
    os.environ["DATABASE_URL"] = database_url(settings)
    replicas = resolve_replica_urls(settings)
    os.environ["DATABASE_REPLICA_URLS"] = ",".join(replicas)
    get_settings.cache_clear()
    try:  # each worker would fail on it: say it once, before starting them
        media_root(get_settings())
    except MediaRootError as exc:
        raise fail(str(exc)) from exc
    if replicas:
        console.print(f"reading from {len(replicas)} replica{'s' if len(replicas) > 1 else ''}")
    count = workers or settings.worker_count
    console.print(
        f"serving http://{host}:{port}/graphql ({count} worker{'s' if count > 1 else ''})"
    )
    GatewayServer(host, port, count).run()


def token(
    user: Annotated[str, typer.Argument(help="Username or user id.")],
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds.")] = None,
) -> None:
    """Mint a bearer token for a user (signed with the configured secret)."""
    from gallery_gql.auth import mint_token
    from gallery_gql.ops.users import find_user

    settings = get_settings()
    found = asyncio.run(find_user(database_url(settings), user))
    if found is None:
        raise fail(f"no user {user!r}")
    print(mint_token(found, settings, ttl_seconds=ttl))


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
    url = database_url(settings)
    upgrade(url)
    if asyncio.run(database_is_empty(url)):
        run_seed(url, "genonaut", items, None, 42, None)
    if not settings.database_url:
        try:
            start_replicas(embedded_cluster(), replicas)
        except EmbeddedError as exc:
            raise fail(str(exc)) from exc
    os.environ.setdefault("GALLERY_GQL_ENVIRONMENT", "development")  # GraphiQL for the demo
    media_home = seed_media_root()
    if settings.media_root is None and media_home.is_dir():
        os.environ["GALLERY_GQL_MEDIA_ROOT"] = str(media_home)
    elif settings.media_root is None:
        console.print(f"no thumbnail files under {media_home}: `gallery-gql media` writes them")
    serve(host=host, port=port, workers=1)
