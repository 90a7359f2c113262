"""Throughput by a native load generator, wrk (C, epoll), beside our Python one (aiohttp,
`http.load`), against ours and PostGraphile on the same first pages.

The Python generator shares the machine's two cores with the servers and costs ~0.27 ms
of CPU a request: it caps what it can measure. wrk costs a fraction of that, so the two
side by side show how much of a rate is the generator's. Each run is one class, one
target, keep-alive connections posting one GraphQL body (a Lua script sets it and counts
answers that are not 200 or carry `errors`, which wrk's own counts miss); targets and
generators take turns, round after round.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gallery_gql.ops.bench.http import LoadResult, cycle, load
from gallery_gql.ops.bench.stats import Summary

WRK, AIOHTTP = "wrk", "aiohttp"
GENERATORS = (WRK, AIOHTTP)
WRK_THREADS = 1  # one thread drives 8 connections far past these servers' rates

_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%(body)s]==]
%(headers)s
bad = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "bad": %%d, "socket": %%d, '
    .. '"p50": %%d, "p95": %%d, "p99": %%d, "max": %%d}\\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_unavailable() -> str | None:
    """Why wrk cannot run here, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not on PATH (`make bench-deps` installs it: apt-get install wrk)"
    return None


def lua_script(body: dict[str, Any], headers: dict[str, str]) -> str:
    """The wrk script posting `body` with `headers`, reporting one RESULT line."""
    text = json.dumps(body, separators=(",", ":"))
    assert "]==]" not in text
    extra = "\n".join(f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items())
    return _SCRIPT % {"body": text, "headers": extra}


def parse_result(output: str) -> LoadResult:
    """wrk's RESULT line as a LoadResult (latencies in ms)."""
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    latency = Summary(
        data["requests"],
        data["p50"] / 1000,
        data["p95"] / 1000,
        data["p99"] / 1000,
        data["max"] / 1000,
    )
    errors = {
        name: count
        for name, count in (("not 200 or errors", data["bad"]), ("socket", data["socket"]))
        if count
    }
    return LoadResult(0, data["duration_us"] / 1e6, data["requests"], latency, errors)


def run_wrk(
    url: str,
    body: dict[str, Any],
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """wrk posting `body` over `connections` keep-alive connections for `seconds`."""
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "post.lua"
        script.write_text(lua_script(body, headers or {}))
        command = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections)]
        command += ["-d", f"{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script)]
        done = subprocess.run(  # noqa: S603 - wrk from PATH, loopback URL
            [*command, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    result = parse_result(done.stdout)
    return LoadResult(connections, result.seconds, result.requests, result.latency, result.errors)


@dataclass(frozen=True)
class NativeRun:
    """One class's body for each target, and how hard and long to push."""

    urls: dict[str, str]  # target → GraphQL endpoint
    bodies: dict[str, dict[str, dict[str, Any]]]  # class → target → body
    connections: int
    seconds: float
    rounds: int


@dataclass(frozen=True)
class NativeResult:
    name: str  # the class
    target: str
    generator: str
    runs: list[LoadResult]  # one a round


async def run_native(run: NativeRun) -> list[NativeResult]:
    """Every class, target and generator, `rounds` times, in turn."""
    runs: dict[tuple[str, str, str], list[LoadResult]] = {}
    for _ in range(run.rounds):
        for name, bodies in run.bodies.items():
            for target, body in bodies.items():
                url = run.urls[target]
                runs.setdefault((name, target, WRK), []).append(
                    run_wrk(url, body, run.connections, run.seconds)
                )
                runs.setdefault((name, target, AIOHTTP), []).append(
                    await load(url, cycle([body]), run.connections, run.seconds)
                )
    return [
        NativeResult(name, target, generator, found)
        for (name, target, generator), found in runs.items()
    ]
