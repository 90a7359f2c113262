"""The peer a user would pick instead: PostGraphile on the same database, same classes,
same load generator, beside our gateway.

PostGraphile answers each class two ways: its generic filter (connection-filter's
`contains`/`overlaps` on the `tags` array, ordered by the table's newest index) and our
strategy through the `peer.gallery_page` SQL function. A PostGraphile collection reads
one table, so the generic form asks for both sources' collections in one request; the
client merges them (both are in the same order, so the page is the merge's first
`size`). Every measured answer is checked against our gateway's page first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.global_id import decode_global_id, decode_item_key
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.http import LoadResult, cycle, load, post_query, time_request
from gallery_gql.ops.bench.peer_server import postgraphile
from gallery_gql.ops.bench.peer_sql import install
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.ops.progress import ProgressCallback

CLASSES = ("no filter", "1 popular tag", "1 rare tag", "ALL 2", "ANY 3", "tags + exclude")
"""The representative classes the peer runs (each is a first NEWEST page, anonymous)."""
OURS, GENERIC, FUNCTION = "ours", "PostGraphile generic filter", "PostGraphile + our SQL function"
TARGETS = (OURS, GENERIC, FUNCTION)

_FIELDS = "id title pathThumb qualityScore createdAt"
GENERIC_DOCUMENT = f"""query PeerGeneric($first: Int!, $regular: ContentItemFilter!,
  $auto: ContentItemsAutoFilter!) {{
  regular: allContentItemsList(first: $first, orderBy: [CREATED_AT_DESC, ID_DESC],
                               filter: $regular) {{ {_FIELDS} }}
  auto: allContentItemsAutosList(first: $first, orderBy: [CREATED_AT_DESC, ID_DESC],
                                 filter: $auto) {{ {_FIELDS} }}
}}"""
FUNCTION_DOCUMENT = f"""query PeerFunction($tagKeys: [Int], $matchAll: Boolean,
  $excludeKeys: [Int], $pageSize: Int) {{
  galleryPageList(tagKeys: $tagKeys, matchAll: $matchAll, excludeKeys: $excludeKeys,
                  pageSize: $pageSize) {{ source {_FIELDS} }}
}}"""

Page = list[tuple[Source, int]]


@dataclass(frozen=True)
class PeerClassResult:
    name: str
    timings: dict[str, Summary]  # target → single-client latency
    agrees: dict[str, bool]  # peer target → same page as ours


@dataclass(frozen=True)
class PeerReport:
    server: str
    classes: list[PeerClassResult]
    load: dict[str, list[LoadResult]]  # target → one result per client count


def expressible(query: QueryClass) -> bool:
    """Whether both peer forms can ask for exactly this class's page."""
    return (
        query.sort is Sort.NEWEST
        and query.page == 1
        and not query.backward
        and not query.signed_in
        and not query.tag_names
    )


def peer_classes(classes: list[QueryClass]) -> list[QueryClass]:
    chosen = [query for query in classes if query.name in CLASSES]
    assert all(expressible(query) for query in chosen), "a peer class the peer cannot ask"
    return chosen


def generic_body(query: QueryClass, tag_ids: dict[int, str]) -> dict[str, Any]:
    condition: dict[str, Any] = {"isPrivate": {"equalTo": False}}
    if query.tags:
        operator = "contains" if query.match is TagMatch.ALL else "overlaps"
        condition["tags"] = {operator: [tag_ids[key] for key in query.tags]}
    if query.exclude:
        condition["not"] = {"tags": {"overlaps": [tag_ids[key] for key in query.exclude]}}
    return {
        "query": GENERIC_DOCUMENT,
        "variables": {"first": query.size, "regular": condition, "auto": condition},
    }


def function_body(query: QueryClass) -> dict[str, Any]:
    return {
        "query": FUNCTION_DOCUMENT,
        "variables": {
            "tagKeys": list(query.tags),
            "matchAll": query.match is TagMatch.ALL,
            "excludeKeys": list(query.exclude),
            "pageSize": query.size,
        },
    }


def generic_page(payload: dict[str, Any], size: int) -> Page:
    """The two sources' collections merged in NEWEST order, ties on (source, id)."""
    rows = [
        (datetime.fromisoformat(row["createdAt"]), source, int(row["id"]))
        for source, field in ((Source.REGULAR, "regular"), (Source.AUTO, "auto"))
        for row in payload["data"][field]
    ]
    rows.sort(reverse=True)
    return [(source, item_id) for _, source, item_id in rows[:size]]


def function_page(payload: dict[str, Any]) -> Page:
    return [(Source(row["source"]), int(row["id"])) for row in payload["data"]["galleryPageList"]]


def our_page(payload: dict[str, Any]) -> Page:
    page = []
    for edge in payload["data"]["contentItems"]["edges"]:
        key = decode_item_key(decode_global_id(edge["node"]["id"])[1])
        page.append((key.source, key.id))
    return page


@dataclass(frozen=True)
class PeerRun:
    """What the peer run is given: the database, our served gateway and its requests."""

    database_url: str
    statement_timeout_ms: int
    our_base: str
    our_bodies: dict[str, dict[str, Any]]  # class name → our measured request
    our_http: dict[str, Summary]  # class name → our single-client latency
    tag_ids: dict[int, str]
    iterations: int
    load_clients: tuple[int, ...]
    load_seconds: float
    workers: int


async def _install_function(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await install(conn)
    finally:
        await engine.dispose()


async def _measure_class(
    run: PeerRun,
    query: QueryClass,
    ours: httpx.AsyncClient,
    peer: httpx.AsyncClient,
) -> tuple[PeerClassResult, dict[str, dict[str, Any]]]:
    bodies = {
        OURS: run.our_bodies[query.name],
        GENERIC: generic_body(query, run.tag_ids),
        FUNCTION: function_body(query),
    }
    expected = our_page(await post_query(ours, bodies[OURS]))
    pages: dict[str, Callable[[dict[str, Any]], Page]] = {
        GENERIC: lambda payload: generic_page(payload, query.size),
        FUNCTION: function_page,
    }
    agrees = {
        target: page_of(await post_query(peer, bodies[target])) == expected
        for target, page_of in pages.items()
    }
    timings = {OURS: run.our_http[query.name]}
    for target in (GENERIC, FUNCTION):
        timings[target] = await time_request(peer, bodies[target], 3, run.iterations)
    return PeerClassResult(query.name, timings, agrees), bodies


async def run_peer(
    run: PeerRun, classes: list[QueryClass], progress: ProgressCallback
) -> PeerReport:
    """Install the function, serve PostGraphile, time each class and each target's load."""
    chosen = peer_classes(classes)
    await _install_function(run.database_url)
    with postgraphile(run.database_url, run.statement_timeout_ms, run.workers) as server:
        results = []
        mixes: dict[str, list[dict[str, Any]]] = {target: [] for target in TARGETS}
        async with (
            httpx.AsyncClient(base_url=run.our_base, timeout=30) as ours,
            httpx.AsyncClient(base_url=server.url.removesuffix("/graphql"), timeout=30) as peer,
        ):
            for n, query in enumerate(chosen):
                progress("peer", n, len(chosen))
                result, bodies = await _measure_class(run, query, ours, peer)
                results.append(result)
                for target, body in bodies.items():
                    mixes[target].append(body)
            progress("peer", len(chosen), len(chosen))
        urls = {OURS: f"{run.our_base}/graphql", GENERIC: server.url, FUNCTION: server.url}
        loads: dict[str, list[LoadResult]] = {target: [] for target in TARGETS}
        steps = len(run.load_clients) * len(TARGETS)
        for n, (clients, target) in enumerate(
            (clients, target) for clients in run.load_clients for target in TARGETS
        ):
            progress("peer load", n, steps)
            loads[target].append(
                await load(urls[target], cycle(mixes[target]), clients, run.load_seconds)
            )
        progress("peer load", steps, steps)
    return PeerReport(server.description, results, loads)
