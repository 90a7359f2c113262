"""The trusted documents' commands: documents export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gallery_gql.cli.common import fail

documents_app = typer.Typer(
    help="The trusted documents (the bundled clients' operations).", no_args_is_help=True
)


@documents_app.command("export")
def export(
    output: Annotated[
        Path | None,
        typer.Option(
            help="File to write (default: stdout); `make documents` writes the bundled one."
        ),
    ] = None,
) -> None:
    """Print the manifest of trusted documents (Apollo's persisted query manifest format),
    built from the gallery page's and GraphiQL's operations."""
    from gallery_gql.ops.trusted_documents import ClientDocumentError, export_manifest

    try:
        text = export_manifest()
    except ClientDocumentError as exc:
        raise fail(str(exc)) from exc
    if output is None:
        print(text, end="")
    else:
        output.write_text(text)
