"""The migrations create exactly the tables in code, and go down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.migrate import alembic_config, current_revision, downgrade, upgrade
from gallery_gql.db.tables import metadata


def test_models_match_migrations(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises when autogenerate finds a diff


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


def test_downgrade_to_base_and_back(database_url: str) -> None:
    downgrade(database_url, "base")
    assert asyncio.run(_tables(database_url)) == set()
    upgrade(database_url)
    assert asyncio.run(_tables(database_url)) == set(metadata.tables)
    assert asyncio.run(current_revision(database_url)) is not None
