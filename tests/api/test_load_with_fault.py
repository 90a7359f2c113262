"""The bounded version of `gallery-gql loadtest`: mixed reads and mutations against the
served app while PostgreSQL restarts; typed errors only, nothing acknowledged is lost,
and the database verifies clean afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.db.migrate import upgrade
from gallery_gql.ops.loadtest import render_load_test, run_load_test
from gallery_gql.ops.seed.database import database_is_empty
from gallery_gql.ops.seed.plan import SeedPlan
from gallery_gql.ops.seed.run import seed_database
from gallery_gql.ops.verify import verify


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    home = Path(tempfile.mkdtemp(prefix="gallery-gql-load-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home)
    upgrade(cluster.start(durable=False))
    yield cluster
    cluster.destroy()


async def test_restart_under_load_loses_nothing(cluster: EmbeddedCluster) -> None:
    url = cluster.url()
    await seed_database(url, SeedPlan(profile="genonaut", items=2000))
    result = await run_load_test(url, str(cluster.home), seconds=8, clients=4, fault_after=3)
    assert result.requests["read"] > 0
    assert result.requests["create"] > 0
    assert set(result.codes) <= {"OK", "SERVICE_UNAVAILABLE", "TIMEOUT"}, result.codes
    assert result.codes["OK"] > 0
    assert result.codes["SERVICE_UNAVAILABLE"] > 0  # the restart did happen mid-load
    assert result.acknowledged_creates
    assert result.missing_creates == 0
    report = await verify(url)
    assert report.clean


async def test_a_replica_killed_under_load_fails_no_request(cluster: EmbeddedCluster) -> None:
    """The served app (two workers) reads from two replicas; one is killed mid-run and
    started again: every request still succeeds, and the report names each target."""
    url = cluster.url()
    if await database_is_empty(url):
        await seed_database(url, SeedPlan(profile="genonaut", items=2000))
    result = await run_load_test(
        url,
        str(cluster.home),
        seconds=5,
        clients=4,
        fault_after=None,
        replicas=2,
        replica_fault_after=1.5,
    )
    assert set(result.codes) == {"OK"}, result.codes
    assert result.missing_creates == 0
    replicas = [name for name in result.targets if name != "primary"]
    assert len(replicas) == 2
    assert all(result.targets[name].reads > 0 for name in replicas), result.targets
    assert sum(result.targets[name].reads for name in replicas) > result.requests["read"] / 4
    report = render_load_test(result)
    assert "| primary |" in report
    print(report)
