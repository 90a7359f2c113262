"""CPU per request of each party during a closed loop of grid pages (docs/benchmarks.md,
"Throughput: where the time goes").

Serves the embedded cluster's database with production settings (as `gallery-gql bench`
does), runs the bench's load generator over four grid pages of 25 (no filter, the most
common tag, ALL of the two most common, ANY of the three most common) and reports, per
load level, req/s and the CPU seconds per request that the server's processes, the
cluster's backends and this load generator used (from /proc, Linux only).

    GALLERY_GQL_HOME=/tmp/full .venv/bin/python scripts/cpu_per_request.py --clients 8,32

`--per-class` runs each of the four pages alone (the capacity model of docs/scaling.md);
`--replicas` serves reads from the embedded cluster's running replicas (`gallery-gql db
start --replicas N`), whose backends count as PostgreSQL too.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.embedded_replicas import embedded_replicas
from gallery_gql.ops.bench.http import cycle, load, served
from gallery_gql.settings import Settings

GRID = "id title thumbnail createdAt source qualityScore"
DOCUMENT = f"""query Grid($tags: [ID!], $match: TagMatchMode!) {{
  contentItems(tags: $tags, match: $match, first: 25) {{
    edges {{ cursor node {{ {GRID} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
COMMON_TAGS = text(
    "SELECT t.id FROM tags t JOIN tag_counts c USING (tag_key) WHERE c.source = 1"
    " ORDER BY c.items DESC LIMIT 3"
)


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes(matches: Any) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if matches(int(stat[1]), cmdline):
            pids.append(int(entry.name))
    return pids


def _postmaster(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def _usage(postmasters: list[int], port: str) -> tuple[float, float, float]:
    """CPU seconds so far of this run's server processes (by their port: other servers
    may run on the machine), the clusters' backends (listed anew: a busier pool opens
    more) and this process. Other clients of the same clusters would count too: measure
    on a cluster of your own."""
    server = _processes(lambda _, cmd: "gallery_gql serve" in cmd and f"--port {port} " in cmd)
    backends = _processes(lambda parent, _: parent in postmasters)
    own = os.times()
    return _cpu_seconds(server), _cpu_seconds(backends), own.user + own.system


async def main(
    seconds: float, levels: list[int], workers: int, per_class: bool, replicas: bool
) -> None:
    settings = Settings()
    cluster = EmbeddedCluster(settings.home)
    url = cluster.url()
    running = [r for r in embedded_replicas(cluster) if r.status().running] if replicas else []
    postmasters = [_postmaster(server.data_dir) for server in (cluster, *running)]
    env = {"DATABASE_REPLICA_URLS": ",".join(r.url() for r in running)}
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        ids = [str(row.id) for row in await conn.execute(COMMON_TAGS)]
    await engine.dispose()
    pages = {
        "no filter": ([], "ANY"),
        "1 popular tag": (ids[:1], "ANY"),
        "ALL 2": (ids[:2], "ALL"),
        "ANY 3": (ids, "ANY"),
    }
    bodies = {
        name: {"query": DOCUMENT, "variables": {"tags": tags, "match": match}}
        for name, (tags, match) in pages.items()
    }
    mixes = {name: [body] for name, body in bodies.items()} if per_class else {}
    mixes["four grid pages"] = list(bodies.values())
    if running:
        print(f"reading from {len(running)} replica(s)")
    with served(url, "cpu-per-request-" + "x" * 32, workers, env=env) as base:
        port = base.rsplit(":", 1)[1]
        await load(f"{base}/graphql", cycle(list(bodies.values())), 8, 2)  # warm-up
        for mix, chosen in mixes.items():
            for clients in levels:
                before = _usage(postmasters, port)
                result = await load(f"{base}/graphql", cycle(chosen), clients, seconds)
                after = _usage(postmasters, port)
                server, backends, own = (
                    1000 * (b - a) / result.requests for a, b in zip(before, after, strict=True)
                )
                print(
                    f"{mix}, {clients} clients: {result.rate:.0f} req/s, p50 "
                    f"{result.latency.p50:.1f} ms, p95 {result.latency.p95:.1f} ms, "
                    f"errors {result.errors or 0}; CPU ms per "
                    f"request: server {server:.2f}, PostgreSQL {backends:.2f}, "
                    f"load generator {own:.2f}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", default="8,32", help="comma-separated load levels")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-class", action="store_true", help="each page alone too")
    parser.add_argument("--replicas", action="store_true", help="read from the replicas")
    args = parser.parse_args()
    levels = [int(level) for level in args.clients.split(",")]
    uvloop.run(main(args.seconds, levels, args.workers, args.per_class, args.replicas))
