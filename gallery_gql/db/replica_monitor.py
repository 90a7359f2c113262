"""Each worker's view of its replicas: replay positions and staleness, polled in the
background.

One task per worker reads the primary's flushed WAL position (`pg_current_wal_flush_lsn()`)
and every replica's replay position (`pg_last_wal_replay_lsn()`) every poll interval, each
on a dedicated connection of its own, so no request ever waits for it. The flushed
position, not the inserted one: only flushed WAL is sent to replicas, and on an idle
primary the insert position can stay a few bytes ahead of it indefinitely (a record no
commit has flushed yet), which would make every replica look behind forever. With
`synchronous_commit=off` a commit's WAL is flushed by the WAL writer within
`wal_writer_delay` (200 ms), and staleness counts from then.

A replica is *current as of* the last poll at which the primary's position was one the
replica has replayed: it holds everything the primary held then. How stale it is when a
read is routed is the time since then, so an idle primary never makes a caught-up replica
look late, a replica whose replay is stuck grows older on every poll, and one whose polls
stop coming (a slow or hung monitor) ages on its own. Its lag, as reported, is that age at
the poll. A replica that cannot be reached, or is no longer a standby, is down until a
poll reaches it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gallery_gql.db.dedicated import asyncpg_dsn, close, connect, stop_task
from gallery_gql.db.lsn import parse_lsn
from gallery_gql.db.routing_events import RoutingEvents, Unobserved

log = logging.getLogger("gallery_gql.replicas")

HISTORY_SECONDS = 600.0
"""Primary positions kept: a replica further behind than this is not current as of any."""


@dataclass
class ReplicaState:
    """What the monitor last learnt about one replica."""

    name: str
    up: bool = False
    replay_lsn: int | None = None
    lag_seconds: float | None = None
    current_as_of: float | None = None
    """Monotonic time at which the primary held nothing the replica has not replayed."""

    def mark_down(self) -> None:
        """A read met the replica dead: out of rotation until a poll reaches it again."""
        self.up = False


class _Probe:
    """One dedicated connection to a server, opened again after any failure."""

    def __init__(self, url: str, timeout: float) -> None:
        self.dsn = asyncpg_dsn(url)
        self.timeout = timeout
        self.connection: Any = None

    async def scalar(self, sql: str) -> Any:
        try:
            if self.connection is None or self.connection.is_closed():
                self.connection = await connect(self.dsn, "gallery-gql-monitor", self.timeout)
            return await self.connection.fetchval(sql, timeout=self.timeout)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        close(connection)


class ReplicaMonitor:
    """Polls the primary and `replicas` (name → URL) every `interval` seconds."""

    def __init__(
        self,
        primary_url: str,
        replicas: dict[str, str],
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        events: RoutingEvents | None = None,
    ) -> None:
        self.interval = interval
        self.events: RoutingEvents = events or Unobserved()
        timeout = max(0.5, min(2.0, interval * 5))
        self._clock = clock
        self._primary = _Probe(primary_url, timeout)
        self._probes = {name: _Probe(url, timeout) for name, url in replicas.items()}
        self.states = {name: ReplicaState(name) for name in replicas}
        self.primary_lsn: int | None = None
        self._history: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.polled = asyncio.Event()
        """Set after each completed poll (tests wait on it)."""

    async def poll(self) -> None:
        """One round: the primary's position, then every replica's, concurrently."""
        try:
            self._record_primary(parse_lsn(await self._primary.scalar(_PRIMARY_LSN)))
        except Exception as exc:  # the primary's position stays the last one known
            log.info("primary position unavailable: %s", type(exc).__name__)
        await asyncio.gather(*(self._poll_replica(name) for name in self.states))
        self.polled.set()

    def _record_primary(self, lsn: int) -> None:
        now = self._clock()
        self._history.append((now, lsn))
        while len(self._history) > 1 and now - self._history[0][0] > HISTORY_SECONDS:
            self._history.popleft()
        self.primary_lsn = lsn

    async def _poll_replica(self, name: str) -> None:
        state = self.states[name]
        try:
            replay = await self._probes[name].scalar(_REPLAY_LSN)
        except Exception as exc:
            if state.up:
                log.warning("replica %s unreachable: %s", name, type(exc).__name__)
            self._set(state, up=False)
            return
        if replay is None:  # promoted, or not a standby at all
            if state.up:
                log.warning("replica %s is not replaying WAL: out of rotation", name)
            self._set(state, up=False)
            return
        state.replay_lsn = parse_lsn(replay)
        state.current_as_of = self.current_as_of(state.replay_lsn)
        self._set(state, up=True)

    def current_as_of(self, replay_lsn: int) -> float | None:
        """When the primary last held nothing beyond `replay_lsn`, by the polls kept
        (None: not within them)."""
        for polled_at, lsn in reversed(self._history):
            if lsn <= replay_lsn:
                return polled_at
        return None

    def _set(self, state: ReplicaState, *, up: bool) -> None:
        state.up = up
        if up and state.current_as_of is not None:
            state.lag_seconds = self._clock() - state.current_as_of
        else:
            state.lag_seconds = None
        self.events.polled(state.name, up, state.lag_seconds)

    # -- the background task ---------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="replica-monitor")

    async def _run(self) -> None:
        while True:
            started = self._clock()
            try:
                await self.poll()
            except Exception:  # never let the monitor die; the next round tries again
                log.exception("replica poll failed")
            await asyncio.sleep(max(0.0, self.interval - (self._clock() - started)))

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)
        for probe in (self._primary, *self._probes.values()):
            await probe.close()


_PRIMARY_LSN = "SELECT pg_current_wal_flush_lsn()::text"
_REPLAY_LSN = "SELECT pg_last_wal_replay_lsn()::text"
