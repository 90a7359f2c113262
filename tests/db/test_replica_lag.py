"""How the monitor turns positions into lag, and how the router picks by it (no server:
the states are set as a poll would set them)."""

from __future__ import annotations

import pytest

from gallery_gql.db.replica_monitor import ReplicaMonitor, ReplicaState
from gallery_gql.db.routing import ReadRouter, Replica


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lag_is_the_time_since_the_primary_first_passed_the_replica() -> None:
    clock = Clock()
    monitor = ReplicaMonitor("postgresql://x@127.0.0.1:1/x", {}, 0.1, clock=clock)
    monitor._record_primary(1_000)
    assert monitor.lag(1_000) == 0.0  # caught up
    clock.now += 5  # an idle primary: a caught-up replica never looks late
    monitor._record_primary(1_000)
    assert monitor.lag(1_000) == 0.0
    monitor._record_primary(2_000)  # a write at t=105
    clock.now += 0.3
    monitor._record_primary(3_000)
    clock.now += 0.2
    assert monitor.lag(1_000) == pytest.approx(0.5)  # missing the write seen at t=105
    assert monitor.lag(2_000) == pytest.approx(0.2)  # missing only the later one
    assert monitor.lag(3_000) == 0.0
    assert monitor.lag(5_000) == 0.0  # ahead of the last poll


def test_the_router_takes_qualifying_replicas_in_turn() -> None:
    def replica(name: str, up: bool, lsn: int | None, lag: float | None) -> Replica:
        return Replica(ReplicaState(name, up, lsn, lag), engine=None)  # type: ignore[arg-type]

    fresh = replica("fresh", True, 900, 0.0)
    other = replica("other", True, 800, 0.2)
    late = replica("late", True, 950, 2.0)
    down = replica("down", False, 990, None)
    router = ReadRouter(None, [fresh, other, late, down], max_lag_seconds=1.0)  # type: ignore[arg-type]
    turns = [router.candidates(None) for _ in range(4)]
    assert [t[0].state.name for t in turns] == ["fresh", "other", "fresh", "other"]
    assert all(sorted(r.state.name for r in t) == ["fresh", "other"] for t in turns)
    assert [r.state.name for r in router.candidates(850)] == ["fresh"]  # behind the write
    assert router.candidates(901) == []  # none has it: the primary answers
