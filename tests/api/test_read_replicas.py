"""Reads on real streaming replicas: where they land, lag, failover, read-your-writes."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.auth import mint_token
from gallery_gql.db.lsn import parse_lsn
from gallery_gql.observability.metrics import READS, REGISTRY, REPLICA_SKIPS
from gallery_gql.settings import Settings
from tests.factories import build_gallery
from tests.replication import (
    ReplicatedDatabase,
    app_connections,
    replicated_settings,
    served,
    wait_replayed,
)

PAGE = "{ contentItems(first: 50) { edges { node { id title } } } }"
MINE = "{ contentItems(first: 100, creator: {scope: ME}) { edges { node { id } } } }"
ITEM = "query($id: ID!) { contentItem(id: $id) { id title } }"
CREATE = """mutation($input: CreateContentInput!) {
  createContent(input: $input) { item { id title } errors { code message } }
}"""


async def _gallery(db: ReplicatedDatabase, home: Path, user: int = 1) -> tuple[Settings, str]:
    """A small gallery on both replicas; the app's settings and a viewer's token."""
    engine = create_async_engine(db.primary_url)
    try:
        dataset = await build_gallery(engine, regular=20, auto=40)
    finally:
        await engine.dispose()
    await asyncio.to_thread(wait_replayed, db.cluster)
    settings = replicated_settings(db, home)
    return settings, mint_token(dataset.users[user], settings)


def _reads(target: str) -> float:
    return READS.labels(target)._value.get()


def _ids(body: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in body["data"]["contentItems"]["edges"]}


async def test_reads_land_on_the_replicas_spread_and_match_the_primary(
    replicated_database: ReplicatedDatabase, tmp_path: Path
) -> None:
    db = replicated_database
    settings, token = await _gallery(db, tmp_path)
    primary_only = replicated_settings(db, tmp_path, database_replica_urls="")
    async with served(primary_only) as (_, gql):
        expected = _ids(await gql.post(PAGE))
        expected_mine = _ids(await gql.post(MINE, token=token))
    await asyncio.to_thread(db.cluster.primary.psql, "SELECT 1")  # pool connections closed
    async with served(settings) as (app, gql):
        names = [replica.state.name for replica in app.state.router.replicas]
        before = {name: _reads(name) for name in [*names, "primary"]}
        for _ in range(10):
            assert _ids(await gql.post(PAGE)) == expected
            assert _ids(await gql.post(MINE, token=token)) == expected_mine
        # Every read ran on a replica (each took its turn); the primary served none.
        served_by = {name: _reads(name) - before[name] for name in before}
        assert served_by["primary"] == 0
        assert all(served_by[name] >= 10 for name in names), served_by
        assert sum(served_by[name] for name in names) >= 30  # 2 pages and the viewer
        for replica in db.cluster.replicas:
            assert app_connections(replica, db.name) >= 1
        assert app_connections(db.cluster.primary, db.name) == 0
        # Each replica's pool is reported: its compiled reads' connection kept, none in use.
        for name in names:
            kept, in_use = (
                REGISTRY.get_sample_value(
                    "gallery_db_pool_connections", {"target": name, "state": state}
                )
                for state in ("kept", "checked_out")
            )
            assert (kept or 0) >= 1, (name, kept)
            assert in_use == 0, (name, in_use)


async def test_lagging_replicas_are_skipped_and_the_primary_answers(
    replicated_database: ReplicatedDatabase, tmp_path: Path
) -> None:
    db = replicated_database
    settings, token = await _gallery(db, tmp_path)
    for replica in db.cluster.replicas:
        replica.psql("SELECT pg_wal_replay_pause()")
    async with served(settings) as (app, gql):
        created = await gql.post(CREATE, {"input": _new("late")}, token=token)
        item_id = created["data"]["createContent"]["item"]["id"]
        written = time.monotonic()
        # Anonymous readers may miss it only while the replicas are within the bound.
        bound = (settings.replica_max_lag_ms + 3 * settings.replica_poll_interval_ms) / 1000
        while time.monotonic() - written < bound + 1:
            seen = item_id in _ids(await gql.post(PAGE))
            assert seen or time.monotonic() - written <= bound
            await asyncio.sleep(0.05)
        assert seen
        skipped = REPLICA_SKIPS.labels(app.state.router.replicas[0].state.name, "lagging")
        assert skipped._value.get() > 0


def _new(title: str) -> dict[str, Any]:
    return {"title": title, "contentType": "image", "contentData": "/d.png", "prompt": "p"}


async def test_a_viewers_write_is_visible_to_their_next_read_while_one_replica_is_paused(
    replicated_database: ReplicatedDatabase, tmp_path: Path
) -> None:
    """One replica frozen (`pg_wal_replay_pause()`), the other replaying. After each
    write, the writer's next read sees it (token remembered, or sent back by a client
    that is not signed in); anonymous reads without a token may miss it, but only within
    the lag bound."""
    db = replicated_database
    _, token = await _gallery(db, tmp_path)
    # A bound long enough that the frozen replica stays in rotation for anonymous reads
    # all along: only the write positions keep the writer's reads off it.
    settings = replicated_settings(db, tmp_path, replica_max_lag_ms=30_000)
    rng = random.Random(5)
    bound = (settings.replica_max_lag_ms + 3 * settings.replica_poll_interval_ms) / 1000
    paused, replaying = (f"127.0.0.1:{db.replica(i).status().port}" for i in (0, 1))
    behind_write_before = REPLICA_SKIPS.labels(paused, "behind_write")._value.get()
    replaying_before = _reads(replaying)
    stale_anonymous_reads = 0
    async with served(settings) as (_, gql):
        # Frozen once the gateway has seen it current (it could not date it otherwise).
        await asyncio.to_thread(db.replica(0).psql, "SELECT pg_wal_replay_pause()")
        for n in range(12):
            body = await gql.post(CREATE, {"input": _new(f"mine {n}")}, token=token)
            written = time.monotonic()
            item_id = body["data"]["createContent"]["item"]["id"]
            consistency = body["extensions"]["consistency"]["token"]
            assert parse_lsn(consistency) > 0
            await asyncio.sleep(rng.choice([0, 0.02, 0.1, 0.2, 0.3]))
            assert item_id in _ids(await gql.post(MINE, token=token))
            found = await gql.post(ITEM, {"id": item_id}, token=token)
            assert found["data"]["contentItem"]["id"] == item_id
            found = await gql.post(ITEM, {"id": item_id}, consistency=consistency)
            assert found["data"]["contentItem"] is not None
            anonymous = await gql.post(ITEM, {"id": item_id})
            if anonymous["data"]["contentItem"] is None:
                assert time.monotonic() - written <= bound
                stale_anonymous_reads += 1
    assert stale_anonymous_reads > 0  # the frozen replica did serve anonymous reads
    # The frozen replica was passed over for the writer; the replaying one served them.
    assert REPLICA_SKIPS.labels(paused, "behind_write")._value.get() > behind_write_before
    assert _reads(replaying) > replaying_before


async def test_a_replica_stopped_under_load_costs_no_failed_request(
    replicated_database: ReplicatedDatabase, tmp_path: Path
) -> None:
    db = replicated_database
    settings, token = await _gallery(db, tmp_path, user=2)
    victim = db.replica(1)
    async with served(settings) as (_, gql):
        name = f"127.0.0.1:{victim.status().port}"
        failed_before = REPLICA_SKIPS.labels(name, "failed")._value.get()
        failures: list[str] = []
        done = 0
        stop_at = time.monotonic() + 4.0

        async def client(n: int) -> None:
            nonlocal done
            while time.monotonic() < stop_at:
                try:
                    await gql.post(PAGE if n % 2 else MINE, token=None if n % 2 else token)
                    done += 1
                except AssertionError as exc:
                    failures.append(str(exc)[:300])

        async def crash() -> None:
            await asyncio.sleep(1.5)
            await asyncio.to_thread(victim.stop, "immediate")

        await asyncio.gather(*(client(n) for n in range(6)), crash())
        after = _reads(name)
        for _ in range(5):
            await gql.post(PAGE)
        assert _reads(name) == after  # out of rotation
    assert failures == []
    assert done > 50
    print(
        f"{done} requests; reads that met the stopped replica and ran elsewhere:",
        REPLICA_SKIPS.labels(name, "failed")._value.get() - failed_before,
    )


async def test_reads_go_on_from_the_replicas_while_the_primary_is_down(
    replicated_database: ReplicatedDatabase, tmp_path: Path
) -> None:
    db = replicated_database
    settings, token = await _gallery(db, tmp_path)
    async with served(settings) as (_, gql):
        expected = _ids(await gql.post(PAGE))
        await asyncio.to_thread(db.cluster.primary.stop)
        for _ in range(10):
            assert _ids(await gql.post(PAGE)) == expected
            assert _ids(await gql.post(MINE, token=token)) is not None
        response = await gql.http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": _new("no primary")}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
