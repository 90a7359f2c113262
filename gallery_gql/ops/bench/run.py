"""Runs the benchmark: dataset, database layer, HTTP layer, load; returns the report."""

from __future__ import annotations

import os
import platform
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import uvloop
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.ops.bench.classes import Corpus, QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import ClassResult, measure_class, tag_ids
from gallery_gql.ops.bench.http import (
    LoadResult,
    cycle,
    load,
    prepared_request,
    served,
    time_request,
    viewer_token,
)
from gallery_gql.ops.bench.lean import LeanClassResult
from gallery_gql.ops.bench.peer import PeerReport
from gallery_gql.ops.bench.peer_server import unavailable
from gallery_gql.ops.bench.report import BenchReport
from gallery_gql.ops.bench.served import Gateway, ServedOptions, ServedReport, compare
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed.database import database_is_empty
from gallery_gql.ops.seed.plan import SeedPlan
from gallery_gql.ops.seed.run import seed_database
from gallery_gql.settings import Settings

LEAN_LOAD_CLIENTS = 8


@dataclass(frozen=True)
class BenchOptions:
    profile: str = "genonaut"
    items: int = 100_000
    iterations: int = 50
    baseline_iterations: int = 5
    http: bool = True
    load_clients: tuple[int, ...] = (1, 8, 32)
    load_seconds: float = 10.0
    workers: int = 2
    peer: bool | None = None  # None: run the peer when it is installed
    lean: bool = True  # our /graphql beside the lean REST endpoint (with http)
    command: str = "gallery-gql bench"


def peer_skip_reason(options: BenchOptions) -> str | None:
    """Why the PostGraphile comparison will not run, or None when it will."""
    if options.peer is False:
        return "--no-peer"
    if not options.http:
        return "it is measured through HTTP, and --no-http was given"
    return unavailable()


async def _dataset(url: str, options: BenchOptions, progress: ProgressCallback) -> list[str]:
    if await database_is_empty(url):
        plan = SeedPlan(profile=options.profile, items=options.items)  # type: ignore[arg-type]
        await seed_database(url, plan, progress)
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        regular = await conn.scalar(text("SELECT count(*) FROM content_items"))
        auto = await conn.scalar(text("SELECT count(*) FROM content_items_auto"))
        links = await conn.scalar(text("SELECT sum(items) FROM tag_counts"))
        tags = await conn.scalar(text("SELECT count(*) FROM tags"))
    await engine.dispose()
    return [
        f"- dataset: {regular:,} regular + {auto:,} auto items, {links:,} links, "
        f"{tags:,} tags (profile requested: {options.profile})"
    ]


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"- machine: {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


@dataclass
class _Served:
    """What the HTTP stages measured."""

    http: dict[str, Summary] = field(default_factory=dict)
    load: list[LoadResult] = field(default_factory=list)
    grid_load: list[LoadResult] = field(default_factory=list)
    peer: PeerReport | None = None
    lean: list[LeanClassResult] = field(default_factory=list)


async def _database_stage(
    url: str, options: BenchOptions, progress: ProgressCallback
) -> tuple[Corpus, dict[int, str], list[QueryClass], list[ClassResult]]:
    # The app's read engine (autocommit, JIT off, its generic-plan sessions), with room
    # for the slow baselines.
    engine = autocommit(create_engine(url, Settings(statement_timeout_ms=600_000)))
    async with engine.connect() as conn:
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        classes = build_classes(corpus)
        database = []
        for n, query in enumerate(classes, 1):
            progress("database", n - 1, len(classes))
            database.append(
                await measure_class(
                    conn,
                    query,
                    corpus.viewer,
                    ids,
                    3,
                    options.iterations,
                    options.baseline_iterations,
                )
            )
        progress("database", len(classes), len(classes))
    await engine.dispose()
    return corpus, ids, classes, database


async def _served_stages(
    url: str,
    options: BenchOptions,
    corpus: Corpus,
    ids: dict[int, str],
    classes: list[QueryClass],
    progress: ProgressCallback,
) -> _Served:
    """Per class through HTTP, the closed-loop load, then (unless skipped) the peer."""
    out = _Served()
    secret = secrets.token_urlsafe(32)
    plain = make_url(url).render_as_string(hide_password=False)
    with served(plain, secret, options.workers) as base:
        token = viewer_token(corpus.viewer, secret)
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as anonymous,
            httpx.AsyncClient(
                base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as viewer,
        ):
            bodies = {}
            for n, query in enumerate(classes, 1):
                progress("http", n - 1, len(classes))
                client = viewer if query.signed_in else anonymous
                body = await prepared_request(client, query, ids)
                if not query.signed_in:
                    bodies[query.name] = body
                out.http[query.name] = await time_request(client, body, 3, options.iterations)
            progress("http", len(classes), len(classes))
        mix = cycle(list(bodies.values()))
        grid = cycle(
            [
                bodies[query.name]
                for query in classes
                if query.name in bodies and query.size == 25 and not query.tag_names
            ]
        )
        levels = len(options.load_clients)
        for n, clients in enumerate(options.load_clients):
            progress("load", 2 * n, 2 * levels)
            out.load.append(await load(f"{base}/graphql", mix, clients, options.load_seconds))
            progress("load", 2 * n + 1, 2 * levels)
            out.grid_load.append(await load(f"{base}/graphql", grid, clients, options.load_seconds))
        progress("load", 2 * levels, 2 * levels)
        comparisons = ServedOptions(
            peer=peer_skip_reason(options) is None,
            lean=options.lean,
            native=False,
            iterations=options.iterations,
            load_clients=options.load_clients,
            load_seconds=options.load_seconds,
            lean_clients=min(LEAN_LOAD_CLIENTS, max(options.load_clients)),
            workers=options.workers,
        )
        report = ServedReport()
        gateway = Gateway(url, base, token, corpus, ids, classes)
        await compare(gateway, comparisons, progress, report)
        out.peer, out.lean = report.peer, report.lean
    return out


async def run_bench(url: str, options: BenchOptions, progress: ProgressCallback) -> BenchReport:
    skip_peer = peer_skip_reason(options)
    if skip_peer and options.peer:
        raise RuntimeError(f"the peer cannot run: {skip_peer}")
    header = [
        f"## Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `{options.command}`",
        _machine(),
        *await _dataset(url, options, progress),
    ]
    corpus, ids, classes, database = await _database_stage(url, options, progress)
    served_results = _Served()
    if options.http:
        served_results = await _served_stages(url, options, corpus, ids, classes, progress)
    return BenchReport(
        header,
        database,
        served_results.http,
        served_results.load,
        served_results.peer,
        skip_peer,
        served_results.grid_load,
        served_results.lean,
    )


def run(url: str, options: BenchOptions, progress: ProgressCallback) -> BenchReport:
    # uvloop, as the served workers use: the load generator shares the machine's cores.
    return uvloop.run(run_bench(url, options, progress))
