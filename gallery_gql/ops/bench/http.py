"""End-to-end timings through the served GraphQL endpoint (a real uvicorn process on
loopback with production settings), per class and under concurrent load."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aiohttp
import httpx
import orjson

from gallery_gql.auth import mint_token
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.settings import Settings

JSON = {"content-type": "application/json"}
GRID = "id title thumbnail createdAt source qualityScore"
DOCUMENT = """query Bench($tags: [ID!], $match: TagMatchMode!, $exclude: [ID!],
  $creator: CreatorFilter, $collections: [ContentCollection!], $sort: ContentSort!,
  $first: Int, $cursor: Cursor, $last: Int, $before: Cursor) {
  contentItems(tags: $tags, match: $match, excludeTags: $exclude, creator: $creator,
               collections: $collections, sort: $sort, first: $first, cursor: $cursor,
               last: $last, before: $before) {
    edges { cursor node { %s } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@dataclass(frozen=True)
class LoadResult:
    clients: int
    seconds: float
    requests: int
    latency: Summary
    errors: dict[str, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


BodyFactory = Callable[[int], dict[str, Any]]
"""The body of a load run's n-th request."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    process: subprocess.Popen[bytes], probe: Callable[[], httpx.Response], seconds: float
) -> None:
    """Poll `probe` until it answers 200; RuntimeError when the process exits first or
    `seconds` pass."""
    deadline = time.monotonic() + seconds
    answer = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            response = probe()
            if response.status_code == 200:
                return
            answer = response.text[:200]
        except httpx.HTTPError as exc:
            answer = type(exc).__name__
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready in {seconds:.0f} s: {answer}")


def stop(process: subprocess.Popen[bytes], seconds: float = 30, *, group: bool = False) -> None:
    """Terminate the process (its whole process group with `group`, for servers that
    fork workers into a session of their own), then kill it if it outlives `seconds`."""

    def send(sig: signal.Signals) -> None:
        if process.poll() is not None and not group:
            return
        try:
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def served(
    database_url: str, secret: str, workers: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A production-configured server on a free loopback port (`env` added to its
    environment); its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GALLERY_GQL_SECRET": secret,
        "GALLERY_GQL_ENVIRONMENT": "production",
        "GALLERY_GQL_RATE_LIMIT": "",
        **(env or {}),
    }
    command = [sys.executable, "-m", "gallery_gql", "serve", "--port", str(port)]
    with serving([*command, "--workers", str(workers)], env, port) as base:
        yield base


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """A server process of ours on loopback `port` until the block ends, once its
    `/readyz` answers; its base URL."""
    process = subprocess.Popen(  # noqa: S603 - our own modules
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, lambda: httpx.get(f"{base}/readyz", timeout=1), 60)
        yield base
    finally:
        stop(process)


def variables(query: QueryClass, tag_ids: dict[int, str]) -> dict[str, Any]:
    creator = {"scope": query.creator} if query.creator else None
    return {
        "tags": [tag_ids[k] for k in query.tags],
        "match": query.match.value,
        "exclude": [tag_ids[k] for k in query.exclude],
        "creator": creator,
        "collections": list(query.collections) if query.collections is not None else None,
        "sort": query.sort.value,
        "first": query.size,
    }


def document(query: QueryClass) -> str:
    return DOCUMENT % (GRID + (" tags { name }" if query.tag_names else ""))


async def post_query(
    client: httpx.AsyncClient, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The answer to a GraphQL request that must succeed."""
    response = await client.post("/graphql", json=body, headers=headers)
    payload: dict[str, Any] = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise RuntimeError(f"benchmark request failed: {response.status_code} {payload}")
    return payload


async def prepared_request(
    client: httpx.AsyncClient,
    query: QueryClass,
    tag_ids: dict[int, str],
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The measured request's body, with cursors followed (untimed) for deep pages."""
    doc, base = document(query), variables(query, tag_ids)
    cursor = None
    forward = query.page - 1 + (5 if query.backward else 0)
    for _ in range(forward):
        body = {"query": doc, "variables": {**base, "cursor": cursor}}
        page = await post_query(client, body, headers)
        cursor = page["data"]["contentItems"]["pageInfo"]["endCursor"] or cursor
    if query.backward:
        return {
            "query": doc,
            "variables": {**base, "first": None, "last": query.size, "before": cursor},
        }
    return {"query": doc, "variables": {**base, "cursor": cursor}}


async def time_request(
    client: httpx.AsyncClient, body: dict[str, Any], warmup: int, iterations: int
) -> Summary:
    for _ in range(warmup):
        await post_query(client, body)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await post_query(client, body)
        samples.append((time.perf_counter() - started) * 1000)
    return Summary.of(samples)


async def time_alternated(
    requests: Mapping[str, Callable[[], Awaitable[object]]],
    warmup: int,
    iterations: int,
    seconds: float | None = None,
) -> dict[str, Summary]:
    """Each named request's latency, the requests taking turns one by one (so a drift of
    the machine affects them alike), for `iterations` rounds or, with `seconds`, fewer
    when the rounds have taken that long (at least one)."""
    for _ in range(warmup):
        for request in requests.values():
            await request()
    samples: dict[str, list[float]] = {name: [] for name in requests}
    stop_at = time.monotonic() + seconds if seconds is not None else math.inf
    for _ in range(iterations):
        for name, request in requests.items():
            started = time.perf_counter()
            await request()
            samples[name].append((time.perf_counter() - started) * 1000)
        if time.monotonic() > stop_at:
            break
    return {name: Summary.of(taken) for name, taken in samples.items()}


def cycle(bodies: Sequence[dict[str, Any]]) -> BodyFactory:
    """The bodies in turn."""
    return lambda n: bodies[n % len(bodies)]


async def load(
    url: str,
    next_body: BodyFactory,
    clients: int,
    seconds: float,
    *,
    max_requests: int = 100_000,
    headers: Mapping[str, str] | None = None,
    headers_of: Callable[[int], Mapping[str, str]] | None = None,
    method: str = "POST",
) -> LoadResult:
    """Closed loop: `clients` concurrent clients, each posting the next body to `url` as
    soon as its last one is answered, for `seconds` or `max_requests` requests (with
    `headers`, and the n-th request's own `headers_of(n)`; `method` GET sends no body).

    The load generator shares the machine's cores with the server, so it is kept cheap:
    aiohttp, one connection per client, orjson both ways. httpx with one shared pool cost
    0.7 ms of CPU a request at 8 clients and 1.3 ms at 32; this costs 0.27 ms at either
    (docs/decisions.md)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sent = itertools.count()
    stop_at = time.monotonic() + seconds

    async def client_loop() -> None:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1),
            headers={**JSON, **(headers or {})},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as session:
            while time.monotonic() < stop_at and (n := next(sent)) < max_requests:
                started = time.perf_counter()
                try:
                    extra = headers_of(n) if headers_of else None
                    body = orjson.dumps(next_body(n)) if method == "POST" else None
                    async with session.request(method, url, data=body, headers=extra) as response:
                        _count_errors(response.status, await response.read(), errors)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    errors[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.monotonic() - started
    return LoadResult(clients, elapsed, len(latencies), Summary.of(latencies), dict(errors))


def _count_errors(status: int, body: bytes, errors: Counter[str]) -> None:
    """Tally a response's GraphQL error codes, and its status when it is not 200."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = {}
    for error in (payload.get("errors") if isinstance(payload, dict) else None) or []:
        code = (error.get("extensions") or {}).get("code")
        errors[code or str(error.get("message", "UNKNOWN"))[:60]] += 1
    if status != 200:
        errors[f"HTTP {status}"] += 1


def viewer_token(viewer: UUID, secret: str) -> str:
    return mint_token(viewer, Settings(secret=secret))
