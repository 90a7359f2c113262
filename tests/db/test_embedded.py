"""The embedded cluster lives in its own directory and starts, stops and restarts."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.embedded import EmbeddedCluster


async def _select_one(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        value = int((await conn.execute(text("SELECT 1"))).scalar_one())
    await engine.dispose()
    return value


def test_lifecycle_stays_inside_home() -> None:
    home = Path(tempfile.mkdtemp(prefix="gallery-gql-embedded-"))
    home.chmod(0o755)
    cluster = EmbeddedCluster(home / "cluster")
    try:
        assert not cluster.status().initialized
        url = cluster.start(durable=False)
        assert url.startswith("postgresql+asyncpg://gallery@127.0.0.1:")
        assert cluster.status().running
        assert asyncio.run(_select_one(url)) == 1
        assert cluster.start(durable=False) == url  # idempotent while running
        assert cluster.stop()
        assert not cluster.status().running
        assert not cluster.stop()
        url = cluster.start(durable=False)
        assert asyncio.run(_select_one(url)) == 1
        assert {p.name for p in (home / "cluster").iterdir()} == {
            "pgdata",
            "postgres.log",
            "cluster.json",
        }
    finally:
        cluster.destroy()
    assert not (home / "cluster").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the service user only matters under root")
def test_a_home_the_server_user_cannot_reach_moves_elsewhere_and_stays_found() -> None:
    """As root, a checkout in a private directory (mode 700, like root's home or
    `mktemp -d`): the cluster goes to a reachable place named after the home, every later
    command finds it there, and the private directory's permissions stay as they were."""
    private = Path(tempfile.mkdtemp(prefix="gallery-gql-private-"))  # mode 700
    relocation_root = Path(tempfile.mkdtemp(prefix="gallery-gql-relocated-"))
    relocation_root.chmod(0o755)
    home = private / "checkout" / ".gallery-gql"
    cluster = EmbeddedCluster(home, relocation_root=relocation_root)
    try:
        url = cluster.start(durable=False)
        assert cluster.relocated
        assert cluster.directory.parent == relocation_root
        assert cluster.directory.name.startswith("checkout-")
        note = cluster.location_note()
        assert note is not None
        assert str(cluster.directory) in note
        assert str(home) in note
        again = EmbeddedCluster(home, relocation_root=relocation_root)
        assert again.directory == cluster.directory
        assert again.status().running
        assert again.url() == url
        assert asyncio.run(_select_one(url)) == 1
        assert again.stop()
        assert not cluster.status().running
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        assert private.stat().st_uid == 0
    finally:
        cluster.destroy()
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(relocation_root, ignore_errors=True)
