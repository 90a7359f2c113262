"""CPU per request of each middleware of the app's stack, in process (docs/benchmarks.md,
"The HTTP server layer").

Takes the middleware `create_app` installs (production settings, as `serve` runs them;
`--cors` and `--proxies` turn on the optional ones), wraps each alone, and all together,
around a fixed answer shaped like a grid page (`server_layer_cost.fixed_answer`), and
times raw ASGI calls of `request_cost.py`'s grid request: CPU µs a call less the fixed answer's
own. Rounds alternate the stacks; ranges over the rounds.

    .venv/bin/python scripts/middleware_cost.py --calls 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from typing import Any

import uvloop
from request_cost import _request
from server_layer_cost import fixed_answer
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware

from gallery_gql.app import create_app
from gallery_gql.settings import Settings


def wrapped(layers: list[Middleware]) -> Any:
    app: Any = fixed_answer
    for cls, args, kwargs in reversed(layers):
        app = cls(app, *args, **kwargs)
    return app


async def _micros(app: Any, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await _request(app)
    return (time.process_time() - started) / calls * 1e6


async def main(calls: int, rounds: int) -> None:
    settings = Settings()
    layers = list(create_app(settings).user_middleware)  # outermost first
    stacks = {"fixed answer alone": wrapped([])}
    stacks.update({layer.cls.__name__: wrapped([layer]) for layer in layers})  # type: ignore[attr-defined]
    # Starlette's own two, inside the app's: every app has them.
    own = [Middleware(ServerErrorMiddleware), Middleware(ExceptionMiddleware)]
    stacks["Starlette's error middleware"] = wrapped(own)
    stacks["all of them"] = wrapped([*layers, *own])
    micros: dict[str, list[float]] = defaultdict(list)
    for app in stacks.values():
        await _micros(app, 1000)  # warm-up
    for number in range(rounds):
        for name, app in stacks.items() if number % 2 == 0 else reversed(stacks.items()):
            micros[name].append(await _micros(app, calls))
    bare = statistics.median(micros["fixed answer alone"])
    print(f"{calls} calls a round, {rounds} rounds; CPU µs a call, less the fixed answer's:")
    print("| layer | µs a request |\n|---|---|")
    for name, values in micros.items():
        extra = [value - bare for value in values] if name != "fixed answer alone" else values
        print(f"| {name} | {min(extra):.1f} to {max(extra):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cors", action="store_true", help="with GALLERY_GQL_CORS_ORIGINS")
    parser.add_argument("--proxies", action="store_true", help="with TRUSTED_PROXIES")
    args = parser.parse_args()
    os.environ.update(GALLERY_GQL_ENVIRONMENT="production", GALLERY_GQL_RATE_LIMIT="")
    os.environ.setdefault("GALLERY_GQL_SECRET", "middleware-cost-" + "x" * 32)
    if args.cors:
        os.environ["GALLERY_GQL_CORS_ORIGINS"] = '["https://gallery.example"]'
    if args.proxies:
        os.environ["GALLERY_GQL_TRUSTED_PROXIES"] = '["127.0.0.1"]'
    uvloop.run(main(args.calls, args.rounds))
