"""CPU per request of the HTTP server layer alone: each server serves a fixed answer shaped
like a grid page (the same headers, an 8 KiB JSON body) from a two-line ASGI app, so
what is measured is the server's work: parsing, the ASGI cycle, socket reads and writes,
epoll (docs/benchmarks.md, "The HTTP server layer").

Variants (`--variant`, repeatable; rounds alternate them, each in fresh processes, one
worker, driven by wrk over 8 keep-alive connections; CPU of the server's processes from
/proc):

- `gunicorn`: `serve`'s server (gunicorn, uvicorn worker, `uvicorn_options`: the bounded
  httptools protocol);
- `gunicorn-plain`: the same with uvicorn's own httptools protocol (no header bounds);
- `uvicorn`: uvicorn's own process manager, the same options;
- `granian`: Granian (`pip install granian`) with the bounds it has.

    flock /tmp/bench.lock .venv/bin/python scripts/server_layer_cost.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from server_cost import server_cpu
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gallery_gql.ops.bench.http import free_port, serving
from gallery_gql.ops.bench.native import run_wrk, wrk_unavailable
from gallery_gql.server import GatewayServer, GatewayWorker
from gallery_gql.settings import Settings

BODY = b'{"data":{"contentItems":{"edges":[' + b"x" * 8000 + b"]}}}"
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"vary", b"Accept"),
    (b"x-request-id", b"0123456789abcdef0123456789abcdef"),
    (b"content-security-policy", b"default-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
VARIANTS = ("gunicorn", "gunicorn-plain", "uvicorn", "granian")
CONNECTIONS = 8


async def fixed_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The grid page's shape without the app: reads the body, answers 200."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "http":
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})


class FixedAnswerServer(GatewayServer):
    def __init__(self, port: int, worker_class: str) -> None:
        super().__init__("127.0.0.1", port, 1)
        self.options["worker_class"] = worker_class
        self.cfg.set("worker_class", worker_class)

    def load(self) -> Any:
        return fixed_answer


class PlainWorker(GatewayWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.http = HttpToolsProtocol


def child(variant: str, port: int) -> None:
    """Serve the fixed answer with `variant` on `port` until terminated."""
    if variant == "gunicorn":
        FixedAnswerServer(port, "gallery_gql.server.GatewayWorker").run()
    elif variant == "gunicorn-plain":
        FixedAnswerServer(port, f"{Path(__file__).stem}.PlainWorker").run()
    elif variant == "uvicorn":
        import uvicorn

        from gallery_gql.server import uvicorn_options

        options = uvicorn_options(Settings())
        uvicorn.run(
            f"{Path(__file__).stem}:fixed_answer",
            port=port,
            workers=1,
            log_level="warning",
            **options,
        )
    else:
        raise SystemExit(f"no variant {variant}")


def command(variant: str, port: int) -> list[str]:
    if variant == "granian":
        settings = Settings()
        return [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1"),
            *("--port", str(port), "--loop", "uvloop", "--http", "1", "--log-level", "warning"),
            *("--http1-header-read-timeout", str(int(settings.header_timeout_seconds * 1000))),
            *("--http1-buffer-size", str(max(8192, settings.max_header_bytes))),
            *("--backpressure", str(settings.max_connections)),
            f"{Path(__file__).stem}:fixed_answer",
        ]
    return [sys.executable, __file__, "--child", variant, "--port", str(port), "--"]


def measure(variant: str, seconds: float) -> tuple[float, float]:
    """CPU µs a request and req/s of one run."""
    port = free_port()
    here = str(Path(__file__).parent)
    paths = [os.getcwd(), here, os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
    with serving(command(variant, port), env, port) as base:
        run_wrk(f"{base}/graphql", {}, CONNECTIONS, 1)  # warm-up
        before = server_cpu(port)
        result = run_wrk(f"{base}/graphql", {}, CONNECTIONS, seconds)
        used = server_cpu(port) - before
    return 1e6 * used / result.requests, result.rate


def main(variants: list[str], rounds: int, seconds: float) -> None:
    if (why := wrk_unavailable()) is not None:
        raise SystemExit(why)
    cpu: dict[str, list[float]] = defaultdict(list)
    rate: dict[str, list[float]] = defaultdict(list)
    for number in range(rounds):
        for variant in variants if number % 2 == 0 else variants[::-1]:
            micros, per_second = measure(variant, seconds)
            cpu[variant].append(micros)
            rate[variant].append(per_second)
            print(
                f"round {number + 1}, {variant}: {micros:.0f} µs CPU a request, "
                f"{per_second:.0f} req/s (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    print(f"\none worker, {CONNECTIONS} connections, {seconds:g} s a run, {rounds} rounds:")
    print("| server | CPU µs a request | req/s |\n|---|---|---|")
    for variant in variants:
        mine, rates = cpu[variant], rate[variant]
        print(
            f"| {variant} | {min(mine):.0f}-{max(mine):.0f} (median "
            f"{statistics.median(mine):.0f}) | {min(rates):.0f}-{max(rates):.0f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        child(args.child, args.port)
    else:
        main(args.variant or list(VARIANTS), args.rounds, args.seconds)
