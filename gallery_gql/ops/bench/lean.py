"""Our `/graphql` beside the lean REST endpoint (lean_rest.py) on rare-tag pages: the
same page from both (checked id for id before timing), at one client (the two taking
turns request by request) and under closed-loop load (one class at a time, the two in
turn), with the ratio per class.

Rare-tag pages are where Genonaut's tag-array query through its GIN index is at its
best (a few hundred entries read, then sorted), so the comparison prices what the
gateway adds over the leanest server a team would write for them. "Rare" is the least
common tag on at least `RARE_MIN_ITEMS` items (the long tail's rarest tags are on one
item, and a page of one item measures nothing); ALL 2 pairs it with the rarest tag
that shares at least a page of its items.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.ops.bench.classes import Corpus, QueryClass
from gallery_gql.ops.bench.http import (
    LoadResult,
    cycle,
    free_port,
    load,
    post_query,
    prepared_request,
    serving,
    time_alternated,
)
from gallery_gql.ops.bench.lean_rest import DATABASE_URL_ENV, STATEMENT_TIMEOUT_ENV
from gallery_gql.ops.bench.peer import our_page
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.ops.progress import ProgressCallback

RARE_MIN_ITEMS = 250
TIMING_SECONDS = 20.0
"""One client's rounds per class stop after this long: Genonaut's query takes seconds on
common tags (the genonaut profile has no rare ones), and `gallery-gql bench` runs this."""
OURS, LEAN = "ours", "lean REST"

_PARTNER = text(
    "SELECT q.tag_key FROM content_tags p JOIN content_tags q ON q.source = p.source"
    " AND q.created_at = p.created_at AND q.item_id = p.item_id AND q.tag_key <> p.tag_key"
    " WHERE p.tag_key = :rare GROUP BY q.tag_key HAVING count(*) >= :page"
)


async def lean_classes(database_url: str, corpus: Corpus) -> list[QueryClass]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await _lean_classes(conn, corpus)
    finally:
        await engine.dispose()


async def _lean_classes(conn: AsyncConnection, corpus: Corpus) -> list[QueryClass]:
    counts = dict(corpus.by_count)
    popular = corpus.by_count[0][0]
    enough = [key for key, items in corpus.by_count if items >= RARE_MIN_ITEMS]
    rare = enough[-1] if enough else corpus.by_count[-1][0]
    partners = [row.tag_key for row in await conn.execute(_PARTNER, {"rare": rare, "page": 25})]
    partner = min(partners, key=lambda key: (counts.get(key, 0), key)) if partners else popular
    pair = (rare, partner)
    on = f"tag on {counts[rare]:,} items"
    both = f"tags on {counts[pair[0]]:,} and {counts.get(pair[1], 0):,} items"
    return [
        QueryClass("no filter"),
        QueryClass("1 rare tag", (rare,), notes=on),
        QueryClass("ALL 2 rare", pair, TagMatch.ALL, notes=both),
        QueryClass(
            "rare tag + exclude",
            (rare,),
            exclude=(popular,),
            notes=f"{on}, the most common excluded",
        ),
        QueryClass("TOP_RATED rare", (rare,), sort=Sort.TOP_RATED, notes=on),
    ]


def lean_path(query: QueryClass, tag_ids: dict[int, str]) -> str:
    args = {
        "tags": ",".join(tag_ids[key] for key in query.tags),
        "match": query.match.value.lower(),
        "exclude": ",".join(tag_ids[key] for key in query.exclude),
        "sort": query.sort.value.lower(),
        "first": str(query.size),
    }
    return "/items?" + urlencode({key: value for key, value in args.items() if value})


def lean_page(payload: dict[str, Any]) -> list[tuple[Source, int]]:
    return [(Source(item["source"]), int(item["id"])) for item in payload["items"]]


@contextmanager
def lean_served(database_url: str, statement_timeout_ms: int, workers: int) -> Iterator[str]:
    """The lean endpoint under uvicorn (uvloop, httptools) on a free loopback port, with
    `workers` processes; its base URL."""
    port = free_port()
    plain = make_url(database_url).set(drivername="postgresql")
    env = {
        **os.environ,
        DATABASE_URL_ENV: plain.render_as_string(hide_password=False),
        STATEMENT_TIMEOUT_ENV: str(statement_timeout_ms),
    }
    command = [sys.executable, "-m", "uvicorn", "gallery_gql.ops.bench.lean_rest:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    command += ["--log-level", "warning"]
    with serving(command, env, port) as base:
        yield base


@dataclass(frozen=True)
class LeanClassResult:
    query: QueryClass
    timings: dict[str, Summary]  # target → one client
    load: dict[str, LoadResult]  # target → closed loop
    timeouts: int = 0  # lean requests past the statement timeout, one client
    timed_out: bool = False  # the lean endpoint could not answer the page in time


@dataclass(frozen=True)
class LeanRun:
    database_url: str
    statement_timeout_ms: int
    our_base: str
    tag_ids: dict[int, str]
    iterations: int
    load_clients: int
    load_seconds: float
    workers: int


TIMED_OUT = 504


async def _get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """The lean endpoint's answer; {} when its statement timed out (the sample then
    counts the timeout, and `LeanClassResult.timeouts` says how many did)."""
    response = await client.get(path)
    if response.status_code == TIMED_OUT:
        return {}
    if response.status_code != 200:
        raise RuntimeError(f"lean REST failed: {response.status_code} {response.text[:200]}")
    payload: dict[str, Any] = response.json()
    return payload


async def run_lean(
    run: LeanRun, classes: list[QueryClass], progress: ProgressCallback
) -> list[LeanClassResult]:
    results = []
    with lean_served(run.database_url, run.statement_timeout_ms, run.workers) as lean_base:
        async with (
            httpx.AsyncClient(base_url=run.our_base, timeout=30) as ours,
            httpx.AsyncClient(base_url=lean_base, timeout=30) as lean,
        ):
            for n, query in enumerate(classes):
                progress("lean REST", n, len(classes))
                body, path = (
                    await prepared_request(ours, query, run.tag_ids),
                    lean_path(query, run.tag_ids),
                )
                mine = our_page(await post_query(ours, body))
                answer = await _get(lean, path)
                if not answer:
                    results.append(LeanClassResult(query, {}, {}, timed_out=True))
                    continue
                if lean_page(answer) != mine:
                    raise RuntimeError(f"lean REST answered another page than ours: {query.name}")
                timeouts = 0

                async def lean_page_timed(path: str = path) -> None:
                    nonlocal timeouts
                    timeouts += not await _get(lean, path)

                timings = await time_alternated(
                    {OURS: partial(post_query, ours, body), LEAN: lean_page_timed},
                    3,
                    run.iterations,
                    TIMING_SECONDS,
                )
                loads = {
                    OURS: await load(
                        f"{run.our_base}/graphql", cycle([body]), run.load_clients, run.load_seconds
                    ),
                    LEAN: await load(
                        f"{lean_base}{path}",
                        cycle([{}]),
                        run.load_clients,
                        run.load_seconds,
                        method="GET",
                    ),
                }
                results.append(LeanClassResult(query, timings, loads, timeouts))
            progress("lean REST", len(classes), len(classes))
    return results
