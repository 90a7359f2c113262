"""`gallery-gql db`: the embedded PostgreSQL cluster and its replicas."""

from __future__ import annotations

from typing import Annotated

import typer

from gallery_gql.cli.common import console, embedded_cluster, fail
from gallery_gql.db.embedded import EmbeddedError
from gallery_gql.db.engine import resolve_database_url
from gallery_gql.settings import get_settings

db_app = typer.Typer(
    help="The embedded PostgreSQL cluster (used when DATABASE_URL is unset).", no_args_is_help=True
)


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

    cluster = embedded_cluster()
    try:
        print(cluster.start())
        for url in start_replicas(cluster, replicas):
            print(url)
    except EmbeddedError as exc:
        raise fail(str(exc)) from exc


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster and its replicas."""
    from gallery_gql.db.embedded_replicas import stop_replicas

    cluster = embedded_cluster()
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

    cluster = embedded_cluster()
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
            print(replica_url(embedded_cluster(), replica))
        else:
            print(resolve_database_url(settings, start_embedded=False))
    except EmbeddedError as exc:
        raise fail(str(exc)) from exc
