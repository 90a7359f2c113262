"""A bounded load test on loopback mixing reads and mutations, with a database restart
in the middle, followed by a consistency check: what clients were told succeeded must
still be there.

It drives the served app (production settings) and needs the embedded cluster (it
restarts it), so run it with GALLERY_GQL_HOME pointing at a throwaway home. With
replicas, the app reads from that many streaming replicas of it (odd clients read
anonymously, even ones as the writing viewer), one of them may be stopped mid-run, and
the report gives each target's reads, lag and failures from the workers' metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import secrets
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.global_id import encode_global_id
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.embedded_replicas import EmbeddedReplica, start_replicas
from gallery_gql.ops.bench.http import served, viewer_token
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.ops.load_targets import TargetReport, render_targets, scrape_targets

READ = """query Read($tags: [ID!], $cursor: Cursor) {
  contentItems(tags: $tags, first: 25, cursor: $cursor) {
    edges { cursor node { id title thumbnail } } pageInfo { endCursor } } }"""
CREATE = """mutation Create($input: CreateContentInput!) {
  createContent(input: $input) { item { id databaseId source } errors { code message } } }"""
RETAG = """mutation Retag($input: RetagContentInput!) {
  retagContent(input: $input) { version errors { code message } } }"""


@dataclass
class LoadTestResult:
    seconds: float
    clients: int
    requests: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    latency: dict[str, Summary] = field(default_factory=dict)
    acknowledged_creates: list[tuple[str, int]] = field(default_factory=list)
    missing_creates: int = 0
    fault_at: float | None = None
    recovered_after: float | None = None
    replica_fault_at: float | None = None
    targets: dict[str, TargetReport] = field(default_factory=dict)


async def _fixtures(url: str) -> tuple[list[str], Any, list[tuple[str, int]]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tags = [str(r[0]) for r in await conn.execute(text("SELECT id FROM tags ORDER BY name"))]
        viewer = await conn.scalar(text("SELECT id FROM users ORDER BY created_at, id LIMIT 1"))
        owned = [
            ("AUTO", int(r[0]))
            for r in await conn.execute(
                text(
                    "SELECT id FROM content_items_auto WHERE creator_id = :u ORDER BY id LIMIT 20"
                ),
                {"u": viewer},
            )
        ]
    await engine.dispose()
    return tags, viewer, owned


def _body(kind: str, rng: random.Random, tags: list[str], owned: list[str]) -> dict[str, Any]:
    if kind == "read":
        return {"query": READ, "variables": {"tags": rng.sample(tags, rng.randint(0, 2))}}
    if kind == "create":
        return {
            "query": CREATE,
            "variables": {
                "input": {
                    "source": "AUTO",
                    "title": "load test item",
                    "contentType": "image",
                    "contentData": "/data/load.png",
                    "prompt": "a load test",
                    "tags": rng.sample(tags, 5),
                    "idempotencyKey": secrets.token_hex(8),
                }
            },
        }
    return {
        "query": RETAG,
        "variables": {
            "input": {"id": rng.choice(owned), "set": rng.sample(tags, rng.randint(1, 8))}
        },
    }


async def run_load_test(
    url: str,
    home: str,
    seconds: float,
    clients: int,
    fault_after: float | None,
    replicas: int = 0,
    replica_fault_after: float | None = None,
) -> LoadTestResult:
    tags, viewer, owned_keys = await _fixtures(url)
    owned = [encode_global_id("ContentItem", f"{s}:{i}") for s, i in owned_keys]
    secret = secrets.token_urlsafe(32)
    result = LoadTestResult(seconds, clients)
    samples: dict[str, list[float]] = {"read": [], "create": [], "retag": []}
    cluster = EmbeddedCluster(Path(home))
    replica_urls = await asyncio.to_thread(start_replicas, cluster, replicas) if replicas else []
    metrics_dir = tempfile.mkdtemp(prefix="gallery-gql-metrics-")
    metrics_token = secrets.token_urlsafe(32)
    env = {
        "DATABASE_REPLICA_URLS": ",".join(replica_urls),
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "GALLERY_GQL_METRICS_TOKEN": metrics_token,
    }
    try:
        with served(url, secret, workers=2, env=env) as base:
            # From when the server answers; a fault pushes the end past its recovery.
            end = {"at": time.monotonic() + seconds}
            written = asyncio.Event()  # a create was acknowledged
            headers = {"Authorization": f"Bearer {viewer_token(viewer, secret)}"}
            kinds = ["read"] * 8 + ["create"] + ["retag"]

            async def client_loop(client: httpx.AsyncClient, n: int) -> None:
                rng = random.Random(n)  # noqa: S311 - reproducible traffic
                for step in itertools.count():
                    if time.monotonic() >= end["at"]:
                        return
                    kind = kinds[(n + step) % len(kinds)]
                    anonymous = kind == "read" and n % 2 == 1
                    started = time.perf_counter()
                    body = _body(kind, rng, tags, owned)
                    code = await _send(client, body, kind, result, anonymous)
                    samples[kind].append((time.perf_counter() - started) * 1000)
                    result.requests[kind] += 1
                    result.codes[code] += 1
                    if result.acknowledged_creates:
                        written.set()

            async def fault() -> None:
                if fault_after is None:
                    return
                started = time.monotonic()
                await asyncio.sleep(fault_after)
                # On a busy machine the first writes can come late: restart only once one
                # was acknowledged (waiting at most the run's length), so the check after
                # the restart has something to find.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(written.wait(), seconds)
                result.fault_at = time.monotonic() - started
                await asyncio.to_thread(cluster.stop)
                await asyncio.sleep(2)
                await asyncio.to_thread(cluster.start)
                result.recovered_after = time.monotonic() - started - result.fault_at
                end["at"] = max(end["at"], time.monotonic() + 2)  # traffic after recovery

            async def replica_fault() -> None:
                if replica_fault_after is None or not replicas:
                    return
                await asyncio.sleep(replica_fault_after)
                result.replica_fault_at = replica_fault_after
                victim = EmbeddedReplica(cluster, 1)
                await asyncio.to_thread(victim.stop, "immediate")
                await asyncio.sleep(2)
                await asyncio.to_thread(victim.start)

            limits = httpx.Limits(max_connections=clients)
            async with httpx.AsyncClient(
                base_url=base, headers=headers, timeout=30, limits=limits
            ) as client:
                scraping = asyncio.create_task(
                    scrape_targets(client, metrics_token, lambda: end["at"], result.targets)
                )
                await asyncio.gather(
                    fault(),
                    replica_fault(),
                    *(client_loop(client, n) for n in range(clients)),
                )
                await scraping
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    result.latency = {kind: Summary.of(values) for kind, values in samples.items() if values}
    result.missing_creates = await _missing(url, result.acknowledged_creates)
    return result


async def _send(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    kind: str,
    result: LoadTestResult,
    anonymous: bool = False,
) -> str:
    try:
        if anonymous:  # the client's default Authorization header left out
            request = client.build_request("POST", "/graphql", json=body)
            del request.headers["Authorization"]
            response = await client.send(request)
        else:
            response = await client.post("/graphql", json=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    try:
        payload = response.json()
    except ValueError:  # not our error shape: count it, don't crash the run
        return f"HTTP {response.status_code}"
    errors = payload.get("errors") or []
    if errors:
        return str(errors[0].get("extensions", {}).get("code", "UNKNOWN"))
    data = payload.get("data") or {}
    field_name = {"create": "createContent", "retag": "retagContent"}.get(kind)
    if field_name:
        answer = data.get(field_name) or {}
        if answer.get("errors"):
            return f"payload:{answer['errors'][0]['code']}"
        if kind == "create" and answer.get("item"):
            item = answer["item"]
            result.acknowledged_creates.append((item["source"], int(item["databaseId"])))
    return "OK"


async def _missing(url: str, creates: list[tuple[str, int]]) -> int:
    ids = [item_id for source, item_id in creates if source == "AUTO"]
    if not ids:
        return 0
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM content_items_auto WHERE id = ANY(:ids)"), {"ids": ids}
        )
    await engine.dispose()
    return len(set(ids)) - int(found or 0)


def render_load_test(result: LoadTestResult) -> str:
    """The result as Markdown."""
    lines = [
        f"- {result.clients} clients for {result.seconds:.0f} s; requests: "
        + ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.requests.items())),
        "- answers: " + ", ".join(f"{code} {n:,}" for code, n in result.codes.most_common()),
    ]
    if result.fault_at is not None:
        lines.append(
            f"- PostgreSQL stopped at {result.fault_at:.0f} s for 2 s, back after "
            f"{result.recovered_after or 0:.1f} s"
        )
    if result.replica_fault_at is not None:
        lines.append(f"- replica 1 killed at {result.replica_fault_at:.0f} s, started after 2 s")
    lines.append(
        f"- creates acknowledged: {len(result.acknowledged_creates):,}; missing "
        f"afterwards: {result.missing_creates}"
    )
    lines += ["", "| kind | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    for kind, summary in sorted(result.latency.items()):
        lines.append(
            f"| {kind} | {summary.p50:.1f} | {summary.p95:.1f} | {summary.p99:.1f} "
            f"| {summary.max:.1f} |"
        )
    if result.targets:
        lines += ["", *render_targets(result.targets)]
    return "\n".join(lines)
