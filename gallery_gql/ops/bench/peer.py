"""The peer a user would pick instead: PostGraphile on the same database, same classes,
same load generator, beside our gateway.

PostGraphile answers each class two ways (peer_bodies.py): its generic filter and our
strategy through the `peer.gallery_page` SQL function. The classes are what the gallery
asks: first pages, a deep page reached by cursor, pages by rating, and a signed-in
viewer (ours with a bearer token, PostGraphile with a JWT it verifies). Every answer is
checked against our gateway's page first: a different page stops the run (a timed-out
one is reported as such). One client: the three targets alternate request by request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.global_id import decode_global_id, decode_item_key
from gallery_gql.gallery.query.filters import Sort
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.http import (
    LoadResult,
    load,
    post_query,
    prepared_request,
    time_alternated,
)
from gallery_gql.ops.bench.peer_bodies import (
    Page,
    function_body,
    function_next,
    function_page,
    generic_body,
    generic_next,
    generic_page,
    peer_token,
)
from gallery_gql.ops.bench.peer_server import postgraphile
from gallery_gql.ops.bench.peer_sql import install
from gallery_gql.ops.bench.stats import Summary
from gallery_gql.ops.progress import ProgressCallback

CLASSES = (
    "no filter",
    "1 popular tag",
    "1 rare tag",
    "ALL 2",
    "ANY 3",
    "tags + exclude",
    "deep page 50, 1 tag",
    "deep page 50, ALL 2",
    "TOP_RATED rare",
    "TOP_RATED popular",
    "TOP_RATED ALL 2",
)
"""The classes the peer runs, anonymous; each of SIGNED_IN is also asked signed in."""
SIGNED_IN = ("no filter", "1 popular tag")
OURS, GENERIC, FUNCTION = "ours", "PostGraphile generic filter", "PostGraphile + our SQL function"
TARGETS = (OURS, GENERIC, FUNCTION)
TIMED_OUT = "timed out"


@dataclass(frozen=True)
class PeerClass:
    query: QueryClass
    signed_in: bool = False

    @property
    def name(self) -> str:
        return f"signed in: {self.query.name}" if self.signed_in else self.query.name


@dataclass(frozen=True)
class PeerClassResult:
    name: str
    timings: dict[str, Summary | None]  # target → single-client latency (None: timed out)
    agrees: dict[str, str]  # peer target → "yes" (and how many timed out) | TIMED_OUT


@dataclass(frozen=True)
class PeerReport:
    server: str
    classes: list[PeerClassResult]
    load: dict[str, list[LoadResult]]  # target → one result per client count


def expressible(query: QueryClass) -> bool:
    """Whether both peer forms can ask for exactly this class's page."""
    return (
        query.sort in (Sort.NEWEST, Sort.TOP_RATED)
        and not query.backward
        and not query.signed_in
        and not query.tag_names
    )


def peer_classes(classes: list[QueryClass]) -> list[PeerClass]:
    by_name = {query.name: query for query in classes if query.name in CLASSES}
    assert all(expressible(query) for query in by_name.values()), "a class the peer cannot ask"
    chosen = [PeerClass(by_name[name]) for name in CLASSES if name in by_name]
    return chosen + [PeerClass(by_name[name], True) for name in SIGNED_IN if name in by_name]


def our_page(payload: dict[str, Any]) -> Page:
    page = []
    for edge in payload["data"]["contentItems"]["edges"]:
        key = decode_item_key(decode_global_id(edge["node"]["id"])[1])
        page.append((key.source, key.id))
    return page


@dataclass(frozen=True)
class PeerRun:
    """What the peer run is given: the database and our served gateway."""

    database_url: str
    statement_timeout_ms: int
    our_base: str
    our_token: str  # a bearer token for the viewer, from our server's secret
    viewer: str  # the corpus's viewer (UUID)
    tag_ids: dict[int, str]
    iterations: int
    load_clients: tuple[int, ...]
    load_seconds: float
    workers: int


@dataclass(frozen=True)
class PeerRequest:
    body: dict[str, Any]
    headers: Mapping[str, str]
    reached: bool = True  # False: an earlier page timed out on the way to this one


async def install_function(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await install(conn)
    finally:
        await engine.dispose()


def _timed_out(exc: RuntimeError) -> bool:
    return "statement timeout" in str(exc)


async def _peer_requests(
    run: PeerRun, peer_class: PeerClass, client: httpx.AsyncClient, token: str
) -> dict[str, PeerRequest]:
    """The measured page's request in each peer form, earlier pages followed (untimed;
    a form that times out on the way is marked as not having reached the page)."""
    query = peer_class.query
    headers = {"Authorization": f"Bearer {token}"} if peer_class.signed_in else {}
    viewer = run.viewer if peer_class.signed_in else None
    generic, function = generic_body(query, run.tag_ids, viewer), function_body(query)

    def following_generic(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return generic_next(body, payload, query.sort, query.size)

    requests = {}
    for target, body, following in (
        (GENERIC, generic, following_generic),
        (FUNCTION, function, function_next),
    ):
        try:
            for _ in range(query.page - 1):
                body = following(body, await post_query(client, body, headers))
        except RuntimeError as exc:
            if not _timed_out(exc):
                raise
            requests[target] = PeerRequest(body, headers, reached=False)
            continue
        requests[target] = PeerRequest(body, headers)
    return requests


async def check_pages(
    peer_class: PeerClass,
    requests: dict[str, PeerRequest],
    ours: httpx.AsyncClient,
    peer: httpx.AsyncClient,
) -> dict[str, str]:
    """Each peer form's page against ours: 'yes', or TIMED_OUT; a different page raises."""
    query = peer_class.query
    expected = our_page(await post_query(ours, requests[OURS].body, requests[OURS].headers))
    pages: dict[str, Callable[[dict[str, Any]], Page]] = {
        GENERIC: lambda payload: generic_page(payload, query.sort, query.size),
        FUNCTION: function_page,
    }
    agrees = {}
    for target, page_of in pages.items():
        if not requests[target].reached:
            agrees[target] = TIMED_OUT
            continue
        try:
            payload = await post_query(peer, requests[target].body, requests[target].headers)
        except RuntimeError as exc:
            if not _timed_out(exc):
                raise
            agrees[target] = TIMED_OUT
            continue
        if page_of(payload) != expected:
            raise RuntimeError(f"{target} answered another page than ours for {peer_class.name}")
        agrees[target] = "yes"
    return agrees


async def _measure_class(
    run: PeerRun,
    peer_class: PeerClass,
    ours: httpx.AsyncClient,
    peer: httpx.AsyncClient,
    token: str,
) -> tuple[PeerClassResult, dict[str, PeerRequest]]:
    our_headers = {"Authorization": f"Bearer {run.our_token}"} if peer_class.signed_in else {}
    our_body = await prepared_request(ours, peer_class.query, run.tag_ids, our_headers)
    requests = {OURS: PeerRequest(our_body, our_headers)}
    requests.update(await _peer_requests(run, peer_class, peer, token))
    agrees = await check_pages(peer_class, requests, ours, peer)
    measured = [OURS, *(target for target, ok in agrees.items() if ok == "yes")]
    clients = {OURS: ours, GENERIC: peer, FUNCTION: peer}
    timeouts = dict.fromkeys(TARGETS, 0)

    async def ask(target: str) -> None:
        """One timed request; a statement timeout counts (its time is the sample)."""
        try:
            await post_query(clients[target], requests[target].body, requests[target].headers)
        except RuntimeError as exc:
            if target == OURS or not _timed_out(exc):
                raise
            timeouts[target] += 1

    timings: dict[str, Summary | None] = dict.fromkeys(TARGETS)
    timings.update(
        await time_alternated(
            {target: partial(ask, target) for target in measured}, 3, run.iterations
        )
    )
    for target, count in timeouts.items():
        if count and target in agrees:
            agrees[target] = f"yes ({count} of {3 + run.iterations} {TIMED_OUT})"
    return PeerClassResult(peer_class.name, timings, agrees), requests


async def run_peer(
    run: PeerRun, classes: list[QueryClass], progress: ProgressCallback
) -> PeerReport:
    """Install the function, serve PostGraphile, time each class and each target's load."""
    chosen = peer_classes(classes)
    await install_function(run.database_url)
    with postgraphile(run.database_url, run.statement_timeout_ms, run.workers) as server:
        token = peer_token(run.viewer, server.jwt_secret)
        results = []
        mixes: dict[str, list[PeerRequest]] = {target: [] for target in TARGETS}
        async with (
            httpx.AsyncClient(base_url=run.our_base, timeout=30) as ours,
            httpx.AsyncClient(base_url=server.url.removesuffix("/graphql"), timeout=30) as peer,
        ):
            for n, peer_class in enumerate(chosen):
                progress("peer", n, len(chosen))
                result, requests = await _measure_class(run, peer_class, ours, peer, token)
                results.append(result)
                if all(agreed.startswith("yes") for agreed in result.agrees.values()):
                    for target, request in requests.items():
                        mixes[target].append(request)
            progress("peer", len(chosen), len(chosen))
        urls = {OURS: f"{run.our_base}/graphql", GENERIC: server.url, FUNCTION: server.url}
        loads: dict[str, list[LoadResult]] = {target: [] for target in TARGETS}
        steps = len(run.load_clients) * len(TARGETS)
        for n, (clients, target) in enumerate(
            (clients, target) for clients in run.load_clients for target in TARGETS
        ):
            progress("peer load", n, steps)
            mix = mixes[target]
            loads[target].append(
                await load(
                    urls[target],
                    lambda i, mix=mix: mix[i % len(mix)].body,  # type: ignore[misc]
                    clients,
                    run.load_seconds,
                    headers_of=lambda i, mix=mix: mix[i % len(mix)].headers,  # type: ignore[misc]
                )
            )
        progress("peer load", steps, steps)
    return PeerReport(server.description, results, loads)
