"""create_app(): FastAPI hosting the GraphQL endpoint and GraphiQL, its HTTP requests
answered by the front (web/graphql_http/front.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gallery_gql.api.consistency import HEADER as CONSISTENCY_HEADER
from gallery_gql.api.consistency import InvalidConsistencyTokenError, request_route
from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.compiled import CompiledDocuments
from gallery_gql.api.documents.manifest import trusted_documents
from gallery_gql.api.errors import ErrorCode
from gallery_gql.api.hidden_lookups import HiddenLookups
from gallery_gql.api.loaders import Loaders
from gallery_gql.api.schema import build_schema
from gallery_gql.api.viewer import AuthenticationError, load_viewer
from gallery_gql.db.engine import (
    autocommit,
    create_engine,
    resolve_database_url,
    resolve_replica_urls,
)
from gallery_gql.db.failures import classify
from gallery_gql.db.kept_connections import kept_idle
from gallery_gql.db.routing import PRIMARY, create_router
from gallery_gql.gallery.live.hub import LiveHub
from gallery_gql.gallery.query.tag_stats import TagDirectory
from gallery_gql.gallery.tag_changes import listen_for_tag_changes
from gallery_gql.observability.logs import configure_logging
from gallery_gql.observability.metrics import (
    LIVE_METRICS,
    ROUTING_METRICS,
    watch_live,
    watch_pool,
)
from gallery_gql.observability.tracing import configure_tracer_provider
from gallery_gql.settings import Settings, get_settings
from gallery_gql.web.body_guard import BodyGuard
from gallery_gql.web.deadline import RequestDeadline
from gallery_gql.web.graphql_http.answers import error_answer
from gallery_gql.web.graphql_http.endpoint import graphql_endpoint, graphql_route
from gallery_gql.web.graphql_http.front import GalleryApp, GraphQLFront
from gallery_gql.web.graphql_http.persisted import PersistedDocuments, PersistedQueryStore
from gallery_gql.web.graphql_http.router import GalleryGraphQLRouter
from gallery_gql.web.health import router as health_router
from gallery_gql.web.media import install_media
from gallery_gql.web.metrics_endpoint import MetricsEndpoint
from gallery_gql.web.pages import graphiql_html, install_pages
from gallery_gql.web.rate_limit import ClientRateLimiter, RateLimit
from gallery_gql.web.security_headers import HardeningHeaders, SecurityHeaders, graphiql_policy

log = logging.getLogger("gallery_gql.app")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    tag_directory = TagDirectory(settings.tag_stats_ttl_seconds)
    hidden_lookups = HiddenLookups(settings.id_miss_limit) if settings.id_miss_limit else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = resolve_database_url(settings)
        app.state.engine = create_engine(url, settings)
        app.state.read_engine = autocommit(app.state.engine)
        app.state.router = create_router(
            settings,
            url,
            app.state.read_engine,
            resolve_replica_urls(settings),
            events=ROUTING_METRICS,
        )
        # The read engine shares the engine's pool, and keeps its connections apart.
        watch_pool(app.state.engine, PRIMARY, partial(kept_idle, app.state.read_engine))
        for replica in app.state.router.replicas:
            watch_pool(replica.engine, replica.state.name, partial(kept_idle, replica.engine))
        app.state.listener = listen_for_tag_changes(url, tag_directory)
        app.state.live = LiveHub(
            app.state.read_engine,
            max_subscriptions=settings.live_max_subscriptions_per_worker,
            queue_size=settings.live_queue_size,
            events=LIVE_METRICS,
        )
        watch_live(lambda: app.state.live.subscriptions)
        app.state.live.attach(app.state.listener)
        await app.state.live.start()
        await app.state.listener.start(wait_seconds=min(1.0, settings.connect_timeout_seconds))
        # The pair estimates on a connection of their own, closed after each read (every
        # 10 minutes): the request pools keep to their servers.
        pairs_engine = create_async_engine(url, poolclass=NullPool)
        pairs_wait = min(1.0, settings.connect_timeout_seconds)
        await tag_directory.load_pairs(pairs_engine, pairs_wait)
        keeping_pairs = asyncio.create_task(tag_directory.keep_pairs(pairs_engine, pairs_wait))
        try:
            yield
        finally:
            keeping_pairs.cancel()
            await pairs_engine.dispose()
            await app.state.listener.stop()
            await app.state.live.stop()
            await app.state.router.close()
            await app.state.engine.dispose()

    async def context_getter(connection: HTTPConnection) -> GalleryContext:
        # An HTTP request or a WebSocket (FastAPI gives a Request to HTTP routes only).
        state = connection.app.state
        reads = request_route(state.router, connection.headers.get(CONSISTENCY_HEADER))
        viewer = await load_viewer(connection.headers.get("authorization"), settings, reads)
        return GalleryContext(
            settings=settings,
            engine=state.engine,
            read_engine=state.read_engine,
            reads=reads,
            loaders=Loaders.create(reads),
            tag_directory=tag_directory,
            viewer=viewer,
            client=connection.client.host if connection.client else "unknown",
            hidden_lookups=hidden_lookups,
            live=getattr(state, "live", None),
            websocket=connection if isinstance(connection, WebSocket) else None,
        )

    async def get_context(
        context: GalleryContext = Depends(context_getter),
    ) -> AsyncIterator[GalleryContext]:
        try:
            yield context
        finally:  # after the response: see Loaders.release
            context.loaders.release()

    app = GalleryApp(title="gallery-gql", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.tag_directory = tag_directory
    schema = build_schema(settings)
    router = GalleryGraphQLRouter(
        schema,
        context_getter=get_context,  # a yield dependency (FastAPI runs it)
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        settings=settings,
    )
    router.max_response_bytes = settings.max_response_bytes
    router.get_max_age_seconds = settings.get_max_age_seconds
    if settings.compiled_documents and not settings.tracing:
        router.compiled = CompiledDocuments(schema, settings)
    router.documents = PersistedDocuments(
        trusted_documents(),
        PersistedQueryStore(settings.persisted_queries_max, settings.persisted_query_max_bytes),
        trusted_only=settings.trusted_documents_only,
    )
    # HTTP requests take the plain route (endpoint.py); WebSockets strawberry's router.
    endpoint = graphql_endpoint(router, context_getter)
    app.router.routes.append(graphql_route("/graphql", endpoint))
    app.include_router(router, prefix="/graphql")
    app.include_router(health_router)
    install_pages(app, graphiql=settings.graphiql_enabled)
    install_media(app, settings)
    app.mount("/metrics", MetricsEndpoint(settings.metrics_token))
    # Outermost last: CORS answers preflights, then the rate limit, then the body checks.
    app.add_middleware(RequestDeadline, seconds=settings.request_deadline_seconds)
    app.add_middleware(
        BodyGuard, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds
    )
    limiter = (
        ClientRateLimiter(
            settings.rate_limit, redis_url=settings.redis_url, redis_prefix=settings.redis_prefix
        )
        if settings.rate_limit
        else None
    )
    if limiter is not None:
        app.add_middleware(RateLimit, limiter=limiter)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", CONSISTENCY_HEADER],
            max_age=600,
        )
    html_policies = [("/graphql", graphiql_policy(graphiql_html()))]
    app.add_middleware(SecurityHeaders, html_policies=html_policies)
    if settings.trusted_proxies:  # outermost: everything after sees the client's address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, exc: AuthenticationError) -> Response:
        return error_answer(
            request.headers.get("accept"),
            401,
            ErrorCode.UNAUTHENTICATED,
            str(exc),
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own answers (no such path, a method the path does not take), in
        # the API's error shape instead of {"detail": ...}.
        code = HTTP_ERROR_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
        return error_answer(
            request.headers.get("accept"), exc.status_code, code, exc.detail, exc.headers
        )

    @app.exception_handler(InvalidConsistencyTokenError)
    async def _bad_token(request: Request, exc: InvalidConsistencyTokenError) -> Response:
        return error_answer(request.headers.get("accept"), 400, ErrorCode.BAD_USER_INPUT, str(exc))

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(OSError)
    async def _database_failure(request: Request, exc: Exception) -> Response:
        # Raised outside GraphQL execution (the viewer lookup in the context getter).
        if classify(exc) is None:
            return _internal(request, exc)
        return error_answer(
            request.headers.get("accept"),
            503,
            ErrorCode.SERVICE_UNAVAILABLE,
            "the service is briefly unavailable; retry shortly",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _internal(request, exc)

    if not settings.cors_origins:  # CORS answers between the layers the front fuses
        front: Any = GraphQLFront(
            endpoint,
            HardeningHeaders(html_policies),
            limiter,
            max_body_bytes=settings.max_body_bytes,
            body_timeout=settings.body_timeout_seconds,
            deadline_seconds=settings.request_deadline_seconds,
            exception_handlers=app.exception_handlers,
        )
        if settings.trusted_proxies:
            front = ProxyHeadersMiddleware(front, trusted_hosts=settings.trusted_proxies)
        app.front = front
    return app


HTTP_ERROR_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


def _internal(request: Request, exc: Exception) -> Response:
    """An unexpected failure outside GraphQL execution: logged, answered in the API's
    error shape (never Starlette's plain-text 500), with the request id to find the log."""
    request_id = correlation_id.get() or "unknown"
    log.error("internal error outside execution (request %s)", request_id, exc_info=exc)
    return error_answer(
        request.headers.get("accept"),
        500,
        ErrorCode.INTERNAL,
        f"internal server error (request id {request_id})",
    )


def create_served_app() -> FastAPI:
    """The factory `gallery-gql serve` hands to uvicorn: JSON logs, then the app. Each
    worker process calls it, so each configures its own logging."""
    configure_logging()
    settings = get_settings()
    if settings.tracing:
        configure_tracer_provider()
    app = create_app(settings)
    # Everything built so far (schema, modules) lives as long as the process; frozen, the
    # cyclic collector stops re-scanning it, which was a 75 ms pause every ~20 requests
    # (docs/benchmarks.md). Collected first so no garbage is frozen with it.
    gc.collect()
    gc.freeze()
    return app
