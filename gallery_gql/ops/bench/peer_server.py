"""PostGraphile, the peer, served on loopback against the benchmark's database.

The npm packages are pinned in `peers/postgraphile/` (`make peer-deps` installs them).
The server reads through read-only sessions with the same session settings our
gateway's connections use (JIT off, the same statement timeout), exposes the `public`
tables (connections, with cursors, and lists) and the `peer` schema's function as root
fields, verifies JWTs signed with a secret of its own (their claims reach SQL as
`jwt.claims.*` settings), and runs as many cluster workers as our server runs uvicorn
workers.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy.engine import make_url

from gallery_gql.ops.bench.http import free_port, stop, wait_ready
from gallery_gql.ops.bench.peer_sql import SCHEMA

PEER_DIR = Path(__file__).resolve().parents[3] / "peers" / "postgraphile"
FILTER_PLUGIN = "postgraphile-plugin-connection-filter"
READY_SECONDS = 60
STOP_SECONDS = 10


@dataclass(frozen=True)
class PeerServer:
    url: str  # the GraphQL endpoint
    description: str  # what ran, with versions
    jwt_secret: str  # what signs the JWTs it accepts (peer_bodies.peer_token)


def _cli(peer_dir: Path) -> Path:
    return peer_dir / "node_modules" / "postgraphile" / "cli.js"


def unavailable(peer_dir: Path = PEER_DIR) -> str | None:
    """Why the peer cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not _cli(peer_dir).is_file() or not (peer_dir / "node_modules" / FILTER_PLUGIN).is_dir():
        return f"{peer_dir / 'node_modules'} is missing: run `make peer-deps`"
    return None


def _version(peer_dir: Path, package: str) -> str:
    manifest = peer_dir / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def connection_string(database_url: str, statement_timeout_ms: int) -> str:
    """A libpq-style URL for node-postgres: read-only sessions, the gateway's settings."""
    url = make_url(database_url)
    settings = {
        "default_transaction_read_only": "on",
        "jit": "off",
        "statement_timeout": str(statement_timeout_ms),
        "application_name": "gallery-gql-peer",
    }
    options = " ".join(f"-c {key}={value}" for key, value in settings.items())
    base = url.set(drivername="postgres", query={}).render_as_string(hide_password=False)
    return f"{base}?options={quote(options, safe='')}"


def _command(
    peer_dir: Path, connection: str, port: int, workers: int, jwt_secret: str
) -> list[str]:
    node = shutil.which("node")
    assert node is not None
    command = [
        node,
        str(_cli(peer_dir)),
        "--connection",
        connection,
        "--schema",
        f"public,{SCHEMA}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--append-plugins",
        FILTER_PLUGIN,
        "--simple-collections",
        "both",
        "--jwt-secret",
        jwt_secret,
        "--no-setof-functions-contain-nulls",
        "--disable-default-mutations",
        "--disable-graphiql",
        "--disable-query-log",
    ]
    if workers > 1:
        command += ["--cluster-workers", str(workers)]
    return command


@contextmanager
def postgraphile(
    database_url: str, statement_timeout_ms: int, workers: int, peer_dir: Path = PEER_DIR
) -> Iterator[PeerServer]:
    """PostGraphile on a free loopback port until the block ends; always stopped."""
    reason = unavailable(peer_dir)
    if reason:
        raise RuntimeError(f"PostGraphile cannot run: {reason}")
    port = free_port()
    connection = connection_string(database_url, statement_timeout_ms)
    endpoint = f"http://127.0.0.1:{port}/graphql"
    jwt_secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - the pinned local package
            _command(peer_dir, connection, port, workers, jwt_secret),
            cwd=peer_dir,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its cluster workers stop with it, as one group
        )
        try:
            try:
                wait_ready(
                    process,
                    lambda: httpx.post(endpoint, json={"query": "{ __typename }"}, timeout=2),
                    READY_SECONDS,
                )
            except RuntimeError as exc:
                log.seek(0)
                tail = log.read()[-2000:].decode(errors="replace")
                raise RuntimeError(f"PostGraphile: {exc}\n{tail}") from exc
            description = (
                f"PostGraphile {_version(peer_dir, 'postgraphile')} + {FILTER_PLUGIN} "
                f"{_version(peer_dir, FILTER_PLUGIN)}, {workers} Node process(es) as our server "
                f"has {workers} worker(s)"
            )
            yield PeerServer(endpoint, description, jwt_secret)
        finally:
            stop(process, STOP_SECONDS, group=True)
