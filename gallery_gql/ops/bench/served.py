"""The served comparisons alone, on a database already seeded (scripts/served_bench.py):
PostGraphile (peer.py), the lean REST reference (lean.py) and the native load generator
(native.py), each beside our gateway served once for all of them. Without the database
layer's stage, whose slow Genonaut baselines take minutes at full scale."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import make_url

from gallery_gql.db.engine import create_engine
from gallery_gql.ops.bench.classes import Corpus, QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import tag_ids
from gallery_gql.ops.bench.http import prepared_request, served, viewer_token
from gallery_gql.ops.bench.lean import LeanClassResult, LeanRun, lean_classes, run_lean
from gallery_gql.ops.bench.native import NativeResult, NativeRun, run_native, wrk_unavailable
from gallery_gql.ops.bench.peer import (
    FUNCTION,
    GENERIC,
    OURS,
    PeerClass,
    PeerReport,
    PeerRequest,
    PeerRun,
    check_pages,
    install_function,
    run_peer,
)
from gallery_gql.ops.bench.peer_bodies import function_body, generic_body
from gallery_gql.ops.bench.peer_server import postgraphile, unavailable
from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.settings import Settings

NATIVE_CLASSES = ("no filter", "1 popular tag", "ALL 2")


@dataclass(frozen=True)
class ServedOptions:
    peer: bool = True
    lean: bool = True
    native: bool = True
    iterations: int = 20
    load_clients: tuple[int, ...] = (8, 32)
    load_seconds: float = 10.0
    lean_clients: int = 8
    native_connections: int = 8
    native_seconds: float = 10.0
    rounds: int = 2
    workers: int = 2


@dataclass
class ServedReport:
    peer: PeerReport | None = None
    lean: list[LeanClassResult] = field(default_factory=list)
    native: list[NativeResult] = field(default_factory=list)
    native_server: str = ""
    skipped: list[str] = field(default_factory=list)


async def _corpus(url: str) -> tuple[Corpus, dict[int, str]]:
    engine = create_engine(url, Settings())
    try:
        async with engine.connect() as conn:
            return await load_corpus(conn), await tag_ids(conn)
    finally:
        await engine.dispose()


async def _native(
    url: str,
    options: ServedOptions,
    base: str,
    classes: list[QueryClass],
    ids: dict[int, str],
    report: ServedReport,
) -> None:
    """wrk and aiohttp on the first pages, ours and both PostGraphile forms."""
    chosen = [query for query in classes if query.name in NATIVE_CLASSES]
    await install_function(url)
    timeout = Settings().statement_timeout_ms
    with postgraphile(url, timeout, options.workers) as server:
        bodies = {}
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as ours,
            httpx.AsyncClient(base_url=server.url.removesuffix("/graphql"), timeout=30) as peer,
        ):
            for query in chosen:
                requests = {
                    OURS: PeerRequest(await prepared_request(ours, query, ids), {}),
                    GENERIC: PeerRequest(generic_body(query, ids), {}),
                    FUNCTION: PeerRequest(function_body(query), {}),
                }
                await check_pages(PeerClass(query), requests, ours, peer)
                bodies[query.name] = {target: r.body for target, r in requests.items()}
        urls = {OURS: f"{base}/graphql", GENERIC: server.url, FUNCTION: server.url}
        run = NativeRun(
            urls, bodies, options.native_connections, options.native_seconds, options.rounds
        )
        report.native = await run_native(run)
        report.native_server = server.description


@dataclass(frozen=True)
class Gateway:
    """Our served gateway, and what the comparisons ask it."""

    database_url: str
    base: str
    token: str  # a bearer token for the corpus's viewer
    corpus: Corpus
    tag_ids: dict[int, str]
    classes: list[QueryClass]


async def compare(
    gateway: Gateway, options: ServedOptions, progress: ProgressCallback, report: ServedReport
) -> None:
    """The comparisons `options` asks for, beside `gateway`, into `report` (a comparison
    that cannot run here is skipped with its reason)."""
    url, base, ids = gateway.database_url, gateway.base, gateway.tag_ids
    timeout = Settings().statement_timeout_ms
    peer_missing = unavailable()
    if options.peer and peer_missing is None:
        peer = PeerRun(
            database_url=url,
            statement_timeout_ms=timeout,
            our_base=base,
            our_token=gateway.token,
            viewer=str(gateway.corpus.viewer),
            tag_ids=ids,
            iterations=options.iterations,
            load_clients=options.load_clients,
            load_seconds=options.load_seconds,
            workers=options.workers,
        )
        report.peer = await run_peer(peer, gateway.classes, progress)
    elif options.peer:
        report.skipped.append(f"PostGraphile: {peer_missing}")
    if options.lean:
        lean = LeanRun(
            url,
            timeout,
            base,
            ids,
            options.iterations,
            options.lean_clients,
            options.load_seconds,
            options.workers,
        )
        report.lean = await run_lean(lean, await lean_classes(url, gateway.corpus), progress)
    native_missing = wrk_unavailable() or peer_missing
    if options.native and native_missing is None:
        await _native(url, options, base, gateway.classes, ids, report)
    elif options.native:
        report.skipped.append(f"native load: {native_missing}")


async def run_served(url: str, options: ServedOptions, progress: ProgressCallback) -> ServedReport:
    """Our gateway served once, and every comparison `options` asks for beside it."""
    report = ServedReport()
    corpus, ids = await _corpus(url)
    secret = secrets.token_urlsafe(32)
    plain = make_url(url).render_as_string(hide_password=False)
    with served(plain, secret, options.workers) as base:
        token = viewer_token(corpus.viewer, secret)
        gateway = Gateway(url, base, token, corpus, ids, build_classes(corpus))
        await compare(gateway, options, progress, report)
    return report
