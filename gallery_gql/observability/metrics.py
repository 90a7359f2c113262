"""Prometheus metrics: operations, latency, errors by code, pool use, query strategies,
reads per database target and each replica's lag.

Every label takes values from a bounded set: the operation label is the operation's name
only when the deployment lists it (else `other`), error codes are the API's codes. The
endpoint (web/metrics_endpoint.py) answers only a scraper with the metrics token. With
several workers set PROMETHEUS_MULTIPROC_DIR (see docs/operations.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_asgi_app,
    multiprocess,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from strawberry.extensions import SchemaExtension

from gallery_gql.observability.logs import direct_info

log = structlog.get_logger("gallery_gql.operations")
log_operation = direct_info("gallery_gql.operations", log)

REGISTRY = CollectorRegistry(auto_describe=True)

OPERATIONS = Counter(
    "gallery_graphql_operations",
    "GraphQL operations by name and type.",
    ["operation", "type"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "gallery_graphql_operation_seconds",
    "GraphQL operation latency.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ERRORS = Counter("gallery_graphql_errors", "GraphQL errors by code.", ["code"], registry=REGISTRY)
STRATEGIES = Counter(
    "gallery_query_strategy",
    "contentItems pages by query strategy.",
    ["strategy"],
    registry=REGISTRY,
)
_STRATEGY_SERIES: dict[str, Any] = {}


def count_strategy(strategy: str) -> None:
    """One more page read by `strategy` (a bounded set: `plan.strategy_of`). The series
    is looked up once per strategy: `labels()` takes a lock and checks its labels."""
    series = _STRATEGY_SERIES.get(strategy)
    if series is None:
        series = _STRATEGY_SERIES[strategy] = STRATEGIES.labels(strategy)
    series.inc()


POOL = Gauge(
    "gallery_db_pool_connections",
    "Database pool connections by server (primary or replica) and state.",
    ["target", "state"],
    registry=REGISTRY,
)

READS = Counter(
    "gallery_db_reads",
    "Reads served, by database target (primary or a replica's name).",
    ["target"],
    registry=REGISTRY,
)
REPLICA_SKIPS = Counter(
    "gallery_db_replica_skips",
    "Reads that passed a replica over, by reason: down, lagging, behind_write (the "
    "viewer's last write not replayed yet), failed (it failed under the read, which ran "
    "elsewhere).",
    ["replica", "reason"],
    registry=REGISTRY,
)
REPLICA_LAG = Gauge(
    "gallery_db_replica_lag_seconds",
    "How long the primary has been ahead of the replica's replay position, as last polled.",
    ["replica"],
    multiprocess_mode="max",
    registry=REGISTRY,
)
REPLICA_UP = Gauge(
    "gallery_db_replica_up",
    "1 when the last poll reached the replica and it was replaying WAL, else 0.",
    ["replica"],
    multiprocess_mode="min",
    registry=REGISTRY,
)


class RoutingMetrics:
    """Read routing's events as the metrics above (db/routing_events.RoutingEvents)."""

    def __init__(self) -> None:
        self._reads: dict[str, Any] = {}  # per target: the primary and the configured replicas

    def served(self, target: str) -> None:
        series = self._reads.get(target)
        if series is None:
            series = self._reads[target] = READS.labels(target)
        series.inc()

    def skipped(self, replica: str, reason: str) -> None:
        REPLICA_SKIPS.labels(replica, reason).inc()

    def polled(self, replica: str, up: bool, lag_seconds: float | None) -> None:
        REPLICA_UP.labels(replica).set(1 if up else 0)
        if lag_seconds is not None:
            REPLICA_LAG.labels(replica).set(lag_seconds)


ROUTING_METRICS = RoutingMetrics()

LIVE_DELIVERIES = Counter(
    "gallery_live_deliveries",
    "Live events offered to subscribers (one per subscriber).",
    registry=REGISTRY,
)
LIVE_ENDED = Counter(
    "gallery_live_subscriptions_ended",
    "Live subscriptions the server ended, by reason: interrupted (the worker lost its "
    "listener, or a batch failed), slow (a subscriber too far behind, closed with 1013).",
    ["reason"],
    registry=REGISTRY,
)
LIVE_SUBSCRIPTIONS = Gauge(
    "gallery_live_subscriptions",
    "Live subscriptions served.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)


class LiveMetrics:
    """A live hub's events as the metrics above (gallery/live/events.LiveEvents)."""

    def delivered(self, count: int) -> None:
        LIVE_DELIVERIES.inc(count)

    def ended(self, reason: str, count: int) -> None:
        LIVE_ENDED.labels(reason).inc(count)


LIVE_METRICS = LiveMetrics()


def watch_live(subscriptions: Callable[[], int]) -> None:
    """Report the worker's live subscriptions at scrape time."""
    LIVE_SUBSCRIPTIONS.set_function(lambda: float(subscriptions()))


def exposition_app() -> object:
    """The ASGI app behind /metrics: this process's metrics, or, with
    PROMETHEUS_MULTIPROC_DIR set, the sum over every worker that wrote there."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return make_asgi_app(registry=REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return make_asgi_app(registry=registry)


def watch_pool(engine: AsyncEngine, target: str, kept: Callable[[], int] = lambda: 0) -> None:
    """Report `target`'s pool (the primary's or a replica's) at scrape time: `checked_out`
    (in use), `kept` (idle outside the pool, `kept()` of them: db/kept_connections.py) and
    `idle` (in it)."""
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        POOL.labels(target, "checked_out").set_function(lambda: float(pool.checkedout() - kept()))
        POOL.labels(target, "kept").set_function(lambda: float(kept()))
        POOL.labels(target, "idle").set_function(lambda: float(pool.checkedin()))


KNOWN_OPERATIONS = (
    # the gallery page and GraphiQL's examples
    "GalleryPage",
    "GalleryItem",
    "GalleryLive",
    "NextPage",
    "TagAutocomplete",
    "TagNames",
    "TagSearch",
    "Viewer",
    "ItemWithTags",
    "RetagContent",
    "CreateContent",
    # the bench and the load test
    "Bench",
    "Read",
    "Create",
    "Retag",
    "TagFilterAny",
    "TagFilterAll",
)
"""Operation names that get their own series by default; a deployment adds its clients'
names with GALLERY_GQL_METRICS_OPERATIONS. Any other name is counted as `other`: names
are chosen by clients, and each distinct one was a new series (400 names grew the
endpoint from 3.6 KB to 15 MB)."""

_LOGGED_NAME = 100
_KEPT_SERIES = 256


def operation_label(name: str | None, known: Collection[str]) -> str:
    if name is None:
        return "anonymous"
    return name if name in known else "other"


class OperationMetrics(SchemaExtension):
    """Counts each operation, times it, and counts its errors by code."""

    def __init__(self, known_operations: Collection[str], known_codes: Collection[str]) -> None:
        self.known_operations = known_operations
        self.known_codes = known_codes
        self._series: dict[tuple[str | None, str], tuple[Any, Any, str]] = {}

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
        except RuntimeError:
            kind = "invalid"
        codes = [
            (error.extensions or {}).get("code", "UNKNOWN")
            for error in getattr(context.result, "errors", None) or []
        ]
        self.record(context.operation_name, kind, time.perf_counter() - started, codes)

    def record(self, operation: str | None, kind: str, elapsed: float, codes: list[str]) -> None:
        """One operation's series and log line (also called by the compiled path)."""
        series = self._series.get((operation, kind))
        if series is None:
            series = self._operation_series(operation, kind)
        counted, timed, logged = series
        counted.inc()
        timed.observe(elapsed)
        for code in codes:
            ERRORS.labels(code if code in self.known_codes else "OTHER").inc()
        log_operation(
            "graphql operation",
            operation=logged,
            type=kind,
            ms=round(elapsed * 1000, 2),
            errors=codes,
        )

    def _operation_series(self, operation: str | None, kind: str) -> tuple[Any, Any, str]:
        """The operation's counter and histogram series and its logged name, kept per
        (name, type) while few: names come from clients, so past `_KEPT_SERIES` they are
        looked up each time (the series themselves are bounded by `operation_label`)."""
        name = operation_label(operation, self.known_operations)
        series = (
            OPERATIONS.labels(name, kind),
            LATENCY.labels(name),
            (operation or "anonymous")[:_LOGGED_NAME],
        )
        if len(self._series) < _KEPT_SERIES:
            self._series[operation, kind] = series
        return series
