"""Streaming replicas of the embedded cluster, on loopback next to it.

Each replica is a physical copy made by `pg_basebackup -R` (which writes
`standby.signal` and `primary_conninfo`), with its own port and data directory under
the primary's (`replicas/<n>/`), streaming WAL through a replication slot of its own so
that a stopped replica catches up when started again (the primary keeps at most
`max_slot_wal_keep_size` for it). Replicas are numbered from 1.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from gallery_gql.db.embedded import EmbeddedCluster, EmbeddedError, client_command
from gallery_gql.db.lsn import parse_lsn

MAX_REPLICAS = 8


class EmbeddedReplica(EmbeddedCluster):
    """Replica `index` of `primary`: created from it, started and stopped on its own."""

    def __init__(self, primary: EmbeddedCluster, index: int) -> None:
        super().__init__(primary.directory / "replicas" / str(index))
        self.primary = primary
        self.index = index

    @property
    def name(self) -> str:
        return f"replica-{self.index}"

    @property
    def slot(self) -> str:
        return f"gallery_replica_{self.index}"

    def _locate(self) -> Path:
        return self.home  # inside the primary's directory, which the server user reaches

    def _initialize(self, bindir: Path) -> None:
        port = self.primary._read_port()
        if port is None or not self.primary.status().running:
            raise EmbeddedError("a replica is made from the running primary: start it first")
        self._drop_slot()  # left by a replica deleted while the primary was down
        self._run(
            client_command(
                bindir,
                "pg_basebackup",
                port,
                *("-D", str(self.data_dir), "-R", "-X", "stream", "-c", "fast"),
                *("-C", "-S", self.slot),
            )
        )

    def _server_options(self, port: int, durable: bool) -> dict[str, str]:
        return super()._server_options(port, durable) | {
            "hot_standby": "on",
            # Reads on the replica hold back the primary's vacuum instead of being
            # cancelled by replay ("conflict with recovery").
            "hot_standby_feedback": "on",
            # The walreceiver's application_name: pg_stat_replication names the replica.
            "cluster_name": self.name,
            "shared_buffers": "128MB",
        }

    def _after_start(self, bindir: Path, port: int) -> None:
        return None  # read-only: the database came with the base backup

    def _drop_slot(self) -> None:
        if self.primary.status().running:
            self.primary.psql(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                f"WHERE slot_name = '{self.slot}' AND NOT active",
                database="postgres",
            )

    def destroy(self) -> None:
        """Stop the replica, delete its files and its slot on the primary."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
        self._drop_slot()


@dataclass(frozen=True)
class ReplicaStatus:
    index: int
    running: bool
    port: int | None
    lag_bytes: int | None
    """WAL the replica has not replayed yet (primary's position minus the replay position)."""
    lag_ms: float | None
    """0 when caught up, else the time since the last transaction it replayed."""
    paused: bool | None


def embedded_replicas(primary: EmbeddedCluster) -> list[EmbeddedReplica]:
    """The replicas that exist (started or not), by number."""
    root = primary.directory / "replicas"
    if not root.is_dir():
        return []
    found = sorted(int(path.name) for path in root.iterdir() if path.name.isdigit())
    return [EmbeddedReplica(primary, index) for index in found]


def start_replicas(
    primary: EmbeddedCluster, count: int | None = None, *, durable: bool = True
) -> list[str]:
    """Start the primary's replicas; their URLs. `count` makes there be exactly that many
    (creating the missing ones, deleting those numbered above it); None keeps those there
    are."""
    if count is not None and not 0 <= count <= MAX_REPLICAS:
        raise EmbeddedError(f"--replicas must be between 0 and {MAX_REPLICAS}")
    existing = embedded_replicas(primary)
    if count is None:
        wanted = existing
    else:
        for replica in existing:
            if replica.index > count:
                replica.destroy()
        wanted = [EmbeddedReplica(primary, index) for index in range(1, count + 1)]
    return [replica.start(durable=durable) for replica in wanted]


def stop_replicas(primary: EmbeddedCluster) -> int:
    """Stop every running replica; how many were running."""
    return sum(replica.stop() for replica in embedded_replicas(primary))


def replica_url(primary: EmbeddedCluster, index: int) -> str:
    replica = EmbeddedReplica(primary, index)
    if not replica.status().initialized:
        raise EmbeddedError(f"no replica {index}; run `gallery-gql db start --replicas {index}`")
    return replica.url()


def replica_statuses(primary: EmbeddedCluster) -> list[ReplicaStatus]:
    """Each replica's state and, when it and the primary run, how far behind it is."""
    primary_lsn: int | None = None
    if primary.status().running:
        primary_lsn = parse_lsn(primary.psql("SELECT pg_current_wal_flush_lsn()"))
    statuses = []
    for replica in embedded_replicas(primary):
        state = replica.status()
        lag_bytes: int | None = None
        lag_ms: float | None = None
        paused: bool | None = None
        if state.running:
            replay, paused_text, since = replica.psql(
                "SELECT pg_last_wal_replay_lsn(), pg_is_wal_replay_paused(), "
                "COALESCE(EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)"
            ).split("|")
            paused = paused_text == "t"
            if primary_lsn is not None and replay:
                lag_bytes = max(0, primary_lsn - parse_lsn(replay))
                lag_ms = 0.0 if lag_bytes == 0 else max(0.0, float(since) * 1000)
        statuses.append(
            ReplicaStatus(replica.index, state.running, state.port, lag_bytes, lag_ms, paused)
        )
    return statuses
