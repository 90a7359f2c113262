"""Runs the benchmark: dataset, database layer, HTTP layer, load; returns the report."""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.engine import create_engine
from gallery_gql.ops.bench.classes import build_classes, load_corpus
from gallery_gql.ops.bench.database import measure_class, tag_ids
from gallery_gql.ops.bench.http import (
    load,
    prepared_request,
    served,
    time_request,
    viewer_token,
)
from gallery_gql.ops.bench.report import BenchReport
from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed import SeedPlan, database_is_empty, seed_database
from gallery_gql.settings import Settings


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
    command: str = "gallery-gql bench"


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


async def run_bench(url: str, options: BenchOptions, progress: ProgressCallback) -> BenchReport:
    header = [
        f"## Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `{options.command}`",
        _machine(),
        *await _dataset(url, options, progress),
    ]
    # The app's connection settings (JIT off), with room for the slow baselines.
    engine = create_engine(url, Settings(statement_timeout_ms=600_000))
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
    http_results = {}
    load_results = []
    if options.http:
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
                bodies = []
                for n, query in enumerate(classes, 1):
                    progress("http", n - 1, len(classes))
                    client = viewer if query.creator else anonymous
                    body = await prepared_request(client, query, ids)
                    if not query.creator:
                        bodies.append(body)
                    http_results[query.name] = await time_request(
                        client, body, 3, options.iterations
                    )
                progress("http", len(classes), len(classes))
            for n, clients in enumerate(options.load_clients):
                progress("load", n, len(options.load_clients))
                load_results.append(await load(base, bodies, clients, options.load_seconds))
            progress("load", len(options.load_clients), len(options.load_clients))
    return BenchReport(header, database, http_results, load_results)


def run(url: str, options: BenchOptions, progress: ProgressCallback) -> BenchReport:
    return asyncio.run(run_bench(url, options, progress))
