"""How the monitor dates a replica's state, and how the router picks by it (no server:
the states are set as a poll would set them)."""

from __future__ import annotations

from gallery_gql.db.replica_monitor import ReplicaMonitor, ReplicaState
from gallery_gql.db.routing import ReadRouter, Replica


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_replica_is_current_as_of_the_last_poll_that_saw_nothing_it_lacks() -> None:
    clock = Clock()
    monitor = ReplicaMonitor("postgresql://x@127.0.0.1:1/x", {}, 0.1, clock=clock)
    monitor._record_primary(1_000)  # t=100
    assert monitor.current_as_of(1_000) == 100.0
    clock.now += 5  # an idle primary: a caught-up replica is current as of the last poll
    monitor._record_primary(1_000)  # t=105
    assert monitor.current_as_of(1_000) == 105.0
    clock.now += 0.25
    monitor._record_primary(2_000)  # t=105.25: a write since the last poll
    clock.now += 0.25
    monitor._record_primary(3_000)  # t=105.5
    assert monitor.current_as_of(1_000) == 105.0  # it holds what the primary held at 105
    assert monitor.current_as_of(2_500) == 105.25
    assert monitor.current_as_of(3_000) == 105.5
    assert monitor.current_as_of(999) is None  # behind every poll kept


def test_the_router_takes_fresh_enough_replicas_in_turn() -> None:
    clock = Clock()

    def replica(name: str, up: bool, lsn: int | None, as_of: float | None) -> Replica:
        state = ReplicaState(name, up, lsn, current_as_of=as_of)
        return Replica(state, engine=None)  # type: ignore[arg-type]

    fresh = replica("fresh", True, 900, 100.0)
    other = replica("other", True, 800, 99.8)
    late = replica("late", True, 950, 98.0)
    down = replica("down", False, 990, 100.0)
    router = ReadRouter(
        None,  # type: ignore[arg-type]
        [fresh, other, late, down],
        max_lag_seconds=1.0,
        clock=clock,
    )
    turns = [router.candidates(None) for _ in range(4)]
    assert [t[0].state.name for t in turns] == ["fresh", "other", "fresh", "other"]
    assert all(sorted(r.state.name for r in t) == ["fresh", "other"] for t in turns)
    assert [r.state.name for r in router.candidates(850)] == ["fresh"]  # behind the write
    assert router.candidates(901) == []  # none has it: the primary answers
    clock.now += 0.5  # no poll since: "fresh" is 0.5 s stale, "other" 0.7 s
    assert sorted(r.state.name for r in router.candidates(None)) == ["fresh", "other"]
    clock.now += 0.4  # "other" 1.1 s: out until a poll dates it again
    assert [r.state.name for r in router.candidates(None)] == ["fresh"]
