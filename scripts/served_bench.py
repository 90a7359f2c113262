"""The benchmark's served comparisons alone, on a seeded database: our `/graphql` beside
PostGraphile (generic filter and our SQL function; first, deep, rated and signed-in
pages; one client, then closed loop), beside the lean REST reference (rare-tag pages),
and throughput by wrk beside the Python load generator (docs/benchmarks.md).

    make peer-deps bench-deps
    DATABASE_URL=$(GALLERY_GQL_HOME=/tmp/full .venv/bin/gallery-gql db url) \\
        flock /tmp/bench.lock .venv/bin/python scripts/served_bench.py --output report.md

`gallery-gql bench` runs the PostGraphile and lean REST comparisons too, after the
database layer; this skips that stage (minutes at full scale for Genonaut's baselines).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from gallery_gql.ops.bench.report_served import render_served
from gallery_gql.ops.bench.served import ServedOptions, run_served


def _options(argv: list[str]) -> tuple[ServedOptions, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["peer", "lean", "native"], action="append")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--clients", default="8,32", help="peer closed-loop clients")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="native: rounds of every run")
    parser.add_argument("--native-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, help="append the report to this file")
    args = parser.parse_args(argv)
    only = set(args.only or ["peer", "lean", "native"])
    options = ServedOptions(
        peer="peer" in only,
        lean="lean" in only,
        native="native" in only,
        iterations=args.iterations,
        load_clients=tuple(int(n) for n in args.clients.split(",")),
        load_seconds=args.load_seconds,
        native_seconds=args.native_seconds,
        rounds=args.rounds,
        workers=args.workers,
    )
    return options, args.output


def main() -> None:
    options, output = _options(sys.argv[1:])
    url = os.environ["DATABASE_URL"]
    header = [
        f"## Served comparisons, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `{shlex.join(['python', *sys.argv])}`",
        f"- machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
    ]

    def progress(stage: str, done: int, total: int) -> None:
        print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    before = os.getloadavg()
    report = uvloop.run(run_served(url, options, progress))
    after = os.getloadavg()
    header.append(
        f"- load average (1 min) at start / end: {before[0]:.1f} / {after[0]:.1f} "
        "(the machine's other work shares its cores)"
    )
    text = render_served(report, header)
    print(text)
    if output is not None:
        with output.open("a") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
