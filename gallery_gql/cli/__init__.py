"""The `gallery-gql` command line: parses flags and calls the modules that do the work.

One module per group of commands: `embedded` (db start, stop, status, url), `data`
(migrate, seed, media, backfill, verify, purge-idempotency-keys), `serving` (serve, token,
export-schema, demo), `documents` (documents export) and `measuring` (bench, loadtest);
`common` holds what they share.
"""

from __future__ import annotations

import typer

from gallery_gql.cli import data, measuring, serving
from gallery_gql.cli.common import EXIT_FAILURE, console
from gallery_gql.cli.documents import documents_app
from gallery_gql.cli.embedded import db_app

app = typer.Typer(
    help="gallery-gql: a GraphQL gateway for a gallery of generated images.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(documents_app, name="documents")
# Listed by `--help` in this order.
for name, command in (
    ("migrate", data.migrate),
    ("seed", data.seed),
    ("media", data.media_command),
    ("backfill", data.backfill_command),
    ("verify", data.verify_command),
    ("serve", serving.serve),
    ("token", serving.token),
    ("export-schema", serving.export_schema),
    ("demo", serving.demo),
    ("bench", measuring.bench),
    ("loadtest", measuring.loadtest),
    ("purge-idempotency-keys", data.purge_idempotency_keys),
    ("pair-stats", data.pair_stats_command),
):
    app.command(name)(command)

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
