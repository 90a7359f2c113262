"""`db start --replicas N`: real streaming replicas of the embedded cluster."""

from __future__ import annotations

import time

from gallery_gql.db.embedded_replicas import EmbeddedReplica, replica_statuses
from tests.replication import ReplicatedDatabase, wait_replayed


def _wait(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_replicas_stream_the_primarys_writes(replicated_database: ReplicatedDatabase) -> None:
    db = replicated_database
    primary = db.cluster.primary
    primary.psql("CREATE TABLE probe (n int); INSERT INTO probe VALUES (1)", database=db.name)
    wait_replayed(db.cluster)
    for replica in db.cluster.replicas:
        assert replica.psql("SELECT pg_is_in_recovery()", database=db.name) == "t"
        assert replica.psql("SELECT sum(n) FROM probe", database=db.name) == "1"
    assert [s.lag_bytes for s in replica_statuses(primary)] == [0, 0]


def test_status_shows_a_paused_replica_falling_behind(
    replicated_database: ReplicatedDatabase,
) -> None:
    db = replicated_database
    paused: EmbeddedReplica = db.replica(0)
    paused.psql("SELECT pg_wal_replay_pause()")
    db.cluster.primary.psql("CREATE TABLE later (n int)", database=db.name)
    _wait(lambda: paused.psql("SELECT pg_get_wal_replay_pause_state()") == "paused")
    statuses = {s.index: s for s in replica_statuses(db.cluster.primary)}
    assert statuses[paused.index].paused
    assert (statuses[paused.index].lag_bytes or 0) > 0
    assert not statuses[2].paused
    paused.psql("SELECT pg_wal_replay_resume()")
    wait_replayed(db.cluster)
    assert replica_statuses(db.cluster.primary)[0].lag_bytes == 0


def test_a_stopped_replica_catches_up_when_started(
    replicated_database: ReplicatedDatabase,
) -> None:
    db = replicated_database
    replica = db.replica(1)
    assert replica.stop()
    db.cluster.primary.psql(
        "CREATE TABLE while_down AS SELECT generate_series(1, 1000) AS n", database=db.name
    )
    assert not replica_statuses(db.cluster.primary)[1].running
    replica.start(durable=False)
    wait_replayed(db.cluster)
    assert replica.psql("SELECT count(*) FROM while_down", database=db.name) == "1000"
