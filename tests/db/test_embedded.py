"""The embedded cluster lives in its own directory and starts, stops and restarts."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

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
