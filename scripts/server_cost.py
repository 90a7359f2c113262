"""CPU per request of HTTP servers serving the same app, side by side (docs/benchmarks.md,
"The HTTP server layer").

Each server runs the served app (`create_served_app`, production settings) with the same
worker count on the same database; rounds alternate the servers, and each round drives
the no-filter grid page of 25 with wrk at each `--clients` level (keep-alive
connections; 8 by default), then with the bench's Python load generator at the first
level, reading the CPU that the server's processes used from /proc.

Servers, chosen with `--server` (repeatable):

- `serve`: `gallery-gql serve` as this tree runs it;
- `serve@PATH`: `gallery-gql serve` from another source tree (a `git worktree` of an
  earlier commit), the same venv: before/after of a change to the server layer;
- `granian`: Granian (not a dependency: `pip install granian`, or `uv pip install
  --target DIR granian` with DIR on PYTHONPATH) with the bounds it can express
  (`granian_command` below; docs/benchmarks.md says what it cannot); more of its options
  may follow in the same argument (`"granian --runtime-mode st"`).

    GALLERY_GQL_HOME=/tmp/full flock /tmp/bench.lock .venv/bin/python \\
        scripts/server_cost.py --server serve --server granian --rounds 3 --seconds 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import uvloop

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.ops.bench.http import cycle, free_port, load, serving
from gallery_gql.ops.bench.native import run_wrk, wrk_unavailable
from gallery_gql.settings import Settings

GRID = "id title thumbnail createdAt source qualityScore"
BODY = {
    "query": f"""query Grid($tags: [ID!], $match: TagMatchMode!) {{
  contentItems(tags: $tags, match: $match, first: 25) {{
    edges {{ cursor node {{ {GRID} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}""",
    "variables": {"tags": [], "match": "ANY"},
}


def granian_command(port: int, workers: int, settings: Settings) -> list[str]:
    """Granian serving the app with the nearest of `serve`'s bounds it has."""
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--loop", "uvloop", "--http", "1", "--log-level", "warning"),
        *("--http1-header-read-timeout", str(int(settings.header_timeout_seconds * 1000))),
        *("--http1-buffer-size", str(max(8192, settings.max_header_bytes))),
        *("--backpressure", str(settings.max_connections), "--workers-kill-timeout", "10"),
        "gallery_gql.app:create_served_app",
    ]


def command(server: str, port: int, workers: int, settings: Settings) -> tuple[list[str], str]:
    """The server's command line and the PYTHONPATH it runs with."""
    name, *extra = server.split()
    if name == "granian":  # extra words: more of Granian's options
        return [
            *granian_command(port, workers, settings)[:-1],
            *extra,
            "gallery_gql.app:create_served_app",
        ], os.getcwd()
    tree = server.partition("@")[2] or os.getcwd()
    serve = [sys.executable, "-m", "gallery_gql", "serve", "--port", str(port)]
    return [*serve, "--workers", str(workers)], str(Path(tree).resolve())


def server_cpu(port: int) -> float:
    """CPU seconds so far of the processes whose command line names `--port port` (every
    server here forks its workers from one command line, so they all carry it)."""
    marker = f"--port {port} "
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if marker in cmdline:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:  # exited meanwhile
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


async def _one(
    server: str, workers: int, seconds: float, levels: list[int], settings: Settings
) -> dict[str, float]:
    """One round of `server`: CPU ms a request and req/s, by wrk at each level of clients
    and by the Python load generator at the first."""
    url = EmbeddedCluster(settings.home).url()
    port = free_port()
    argv, pythonpath = command(server, port, workers, settings)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [pythonpath, os.environ.get("PYTHONPATH")])),
        "DATABASE_URL": url,
        "GALLERY_GQL_SECRET": "server-cost-" + "x" * 32,
        "GALLERY_GQL_ENVIRONMENT": "production",
        "GALLERY_GQL_RATE_LIMIT": "",
    }
    figures: dict[str, float] = {}
    with serving(argv, env, port) as base:
        endpoint = f"{base}/graphql"
        await load(endpoint, cycle([BODY]), max(levels), 2)  # warm-up
        for clients in levels:
            before = server_cpu(port)
            native = run_wrk(endpoint, BODY, clients, seconds)
            figures[f"wrk {clients} cpu"] = 1000 * (server_cpu(port) - before) / native.requests
            figures[f"wrk {clients} rate"] = native.rate
            if native.errors:
                print(f"  {server}: wrk errors {native.errors}", file=sys.stderr)
        before = server_cpu(port)
        result = await load(endpoint, cycle([BODY]), levels[0], seconds)
        figures[f"python {levels[0]} cpu"] = 1000 * (server_cpu(port) - before) / result.requests
        figures[f"python {levels[0]} rate"] = result.rate
        if result.errors:
            print(f"  {server}: errors {result.errors}", file=sys.stderr)
    return figures


def _range(values: list[float], digits: int) -> str:
    low, high, median = min(values), max(values), statistics.median(values)
    return f"{low:.{digits}f}-{high:.{digits}f} (median {median:.{digits}f})"


async def main(
    servers: list[str], rounds: int, workers: int, seconds: float, levels: list[int]
) -> None:
    if (why := wrk_unavailable()) is not None:
        raise SystemExit(why)
    settings = Settings()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for number in range(rounds):
        for server in servers if number % 2 == 0 else servers[::-1]:
            figures = await _one(server, workers, seconds, levels, settings)
            shown = ", ".join(f"{key} {value:.2f}" for key, value in figures.items())
            load_average = os.getloadavg()[0]
            print(f"round {number + 1}, {server}: {shown} (load {load_average:.1f})", flush=True)
            for key, value in figures.items():
                results[server][key].append(value)
    print(f"\n{workers} workers, {seconds:g} s a run, {rounds} rounds (CPU ms a request, req/s):")
    keys = list(next(iter(results.values())))
    print("| server | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for server, runs in results.items():
        cells = [_range(runs[key], 0 if key.endswith("rate") else 2) for key in keys]
        print(f"| {server} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", help="serve, serve@PATH or granian")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", default="8", help="comma-separated levels (wrk)")
    args = parser.parse_args()
    levels = [int(level) for level in args.clients.split(",")]
    servers = args.server or ["serve", "granian"]
    uvloop.run(main(servers, args.rounds, args.workers, args.seconds, levels))
