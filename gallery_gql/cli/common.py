"""What every command shares: the consoles, failing with one line, the database URL and
the embedded cluster."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from gallery_gql.db.embedded import EmbeddedCluster, EmbeddedError
from gallery_gql.db.engine import resolve_database_url
from gallery_gql.settings import Settings, get_settings

console = Console(stderr=True)
stdout = Console()  # reports; progress bars and errors go to stderr
EXIT_FAILURE = 1


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(EXIT_FAILURE)


def database_url(settings: Settings) -> str:
    if not settings.database_url:
        embedded_cluster()  # says where the embedded cluster lives when it is not under HOME
    try:
        return resolve_database_url(settings)
    except EmbeddedError as exc:
        raise fail(str(exc)) from exc


def embedded_cluster() -> EmbeddedCluster:
    cluster = EmbeddedCluster(get_settings().home)
    note = cluster.location_note()
    if note:
        console.print(note)
    return cluster
