"""Which database serves a read: a replica that is up, close enough and (for a viewer who
just wrote) has replayed their write, else the primary.

Writes never come here (they run on the primary's engine). A read that fails because
its replica died under it runs again on the next candidate: reads change nothing. The
candidates of a read are the qualifying replicas, taken in turn so reads spread evenly,
then the primary, which always qualifies.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.failures import DatabaseFailure, classify, is_recovery_conflict
from gallery_gql.db.reads import run_read
from gallery_gql.db.replica_monitor import ReplicaMonitor, ReplicaState
from gallery_gql.db.routing_events import RoutingEvents, Unobserved
from gallery_gql.db.write_positions import (
    LocalWritePositions,
    WritePositions,
    create_write_positions,
)
from gallery_gql.settings import Settings

log = logging.getLogger("gallery_gql.routing")

T = TypeVar("T")
PRIMARY = "primary"


@dataclass(frozen=True)
class Replica:
    state: ReplicaState
    engine: AsyncEngine
    """Autocommit, pooled: the replica's read engine."""


class ReadRouter:
    """One per worker: the primary's read engine, the replicas and their monitor."""

    def __init__(
        self,
        primary: AsyncEngine,
        replicas: list[Replica] | None = None,
        *,
        max_lag_seconds: float = 1.0,
        monitor: ReplicaMonitor | None = None,
        positions: WritePositions | None = None,
        events: RoutingEvents | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = replicas or []
        self.max_lag_seconds = max_lag_seconds
        self.monitor = monitor
        self.positions: WritePositions = positions or LocalWritePositions(30.0)
        self.events: RoutingEvents = events or Unobserved()
        self._turn = itertools.count()
        self._clock = clock

    def route(self, min_lsn: int | None = None) -> ReadRoute:
        """A request's reads: `min_lsn` is the WAL position they must see, if any."""
        return ReadRoute(self, min_lsn)

    def candidates(self, min_lsn: int | None) -> list[Replica]:
        """The replicas that may serve a read needing `min_lsn`, in this read's turn."""
        chosen = []
        now = self._clock()
        for replica in self.replicas:
            state = replica.state
            reason = None
            if not state.up or state.replay_lsn is None:
                reason = "down"
            elif state.current_as_of is None or now - state.current_as_of > self.max_lag_seconds:
                reason = "lagging"
            elif min_lsn is not None and state.replay_lsn < min_lsn:
                reason = "behind_write"
            if reason is None:
                chosen.append(replica)
            else:
                self.events.skipped(state.name, reason)
        if len(chosen) > 1:
            start = next(self._turn) % len(chosen)
            chosen = chosen[start:] + chosen[:start]
        return chosen

    async def run(
        self, fn: Callable[[AsyncConnection], Awaitable[T]], min_lsn: int | None = None
    ) -> T:
        """`fn` on the first candidate that answers; the primary last."""
        if self.replicas:
            with contextlib.suppress(_NoReplicaAnsweredError):
                return await self._on_replicas(self.candidates(min_lsn), fn)
        try:
            result = await run_read(self.primary, fn)
        except Exception as exc:
            if min_lsn is not None or not replica_failed(exc):
                raise
            # The primary is unreachable: a replica that is up, however far behind, is
            # better than no answer; never for a read that must see a write.
            up = [replica for replica in self.replicas if replica.state.up]
            try:
                return await self._on_replicas(up, fn)
            except _NoReplicaAnsweredError:
                raise exc from None
        self.events.served(PRIMARY)
        return result

    async def _on_replicas(
        self, replicas: list[Replica], fn: Callable[[AsyncConnection], Awaitable[T]]
    ) -> T:
        """`fn` on the first of `replicas` that answers; one that fails under it is out
        of rotation until the next poll. _NoReplicaAnsweredError when none did."""
        for replica in replicas:
            try:
                result = await run_read(replica.engine, fn)
            except Exception as exc:
                if not replica_failed(exc):
                    raise
                replica.state.mark_down()
                self.events.skipped(replica.state.name, "failed")
                log.warning(
                    "read failed on replica %s (%s); running it elsewhere",
                    replica.state.name,
                    type(exc).__name__,
                )
                continue
            self.events.served(replica.state.name)
            return result
        raise _NoReplicaAnsweredError

    async def close(self) -> None:
        await self.positions.close()
        if self.monitor is not None:
            await self.monitor.stop()
        for replica in self.replicas:
            await replica.engine.dispose()


class _NoReplicaAnsweredError(Exception):
    """None of the replicas tried could serve the read."""


def replica_failed(error: BaseException) -> bool:
    """The replica, not the read, failed: it is unreachable or shutting down, or replay
    cancelled the read (a recovery conflict). Another server may answer."""
    if isinstance(error, sa_exc.TimeoutError):  # its pool is busy, not dead
        return False
    return is_recovery_conflict(error) or classify(error) is DatabaseFailure.UNAVAILABLE


@dataclass
class ReadRoute:
    """The reads of one request. They must see `min_lsn`: the position of the client's
    consistency token, raised to the viewer's remembered last write (`follow_viewer`)
    and to the request's own writes (`wrote`)."""

    router: ReadRouter
    min_lsn: int | None = None
    viewer: UUID | None = None
    written_lsn: int | None = field(default=None)
    """The WAL position after this request's last write (its consistency token)."""

    async def run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await self.router.run(fn, self.min_lsn)

    def _raise_to(self, lsn: int) -> None:
        self.min_lsn = max(self.min_lsn or 0, lsn)

    async def follow_viewer(self, viewer: UUID) -> None:
        """Reads of `viewer` see their own last write (looked up only where there are
        replicas to avoid)."""
        self.viewer = viewer
        if self.router.replicas:
            remembered = await self.router.positions.recall(viewer)
            if remembered is not None:
                self._raise_to(remembered)

    async def wrote(self, lsn: int, *, issue_token: bool = True) -> None:
        """The request committed a write at `lsn`: later reads (this request's, and the
        viewer's for the consistency window) see it. `issue_token=False` when `lsn` is
        not a real position (write_positions.UNKNOWN: the primary alone has it)."""
        if issue_token:
            self.written_lsn = max(self.written_lsn or 0, lsn)
        self._raise_to(lsn)
        if self.viewer is not None and self.router.replicas:
            await self.router.positions.remember(self.viewer, lsn)


def replica_name(url: str) -> str:
    """How metrics and logs name a replica: its host and port."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def create_router(
    settings: Settings,
    primary_url: str,
    primary: AsyncEngine,
    replica_urls: list[str],
    events: RoutingEvents | None = None,
) -> ReadRouter:
    """The worker's router: an engine per replica and the monitor that polls them (started
    here: call inside the event loop; `close()` stops it). No replicas: every read goes to
    `primary`, as without routing. `events` hears of every choice (metrics)."""
    positions = create_write_positions(
        settings.redis_url, settings.consistency_window_seconds, settings.redis_prefix
    )
    if not replica_urls:
        return ReadRouter(primary, positions=positions, events=events)
    named = {replica_name(url): url for url in replica_urls}
    interval = settings.replica_poll_interval_ms / 1000
    monitor = ReplicaMonitor(primary_url, named, interval, events=events)
    replicas = [
        Replica(monitor.states[name], autocommit(create_engine(url, settings)))
        for name, url in named.items()
    ]
    monitor.start()
    return ReadRouter(
        primary,
        replicas,
        max_lag_seconds=settings.replica_max_lag_ms / 1000,
        monitor=monitor,
        positions=positions,
        events=events,
    )
