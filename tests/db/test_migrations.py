"""The migrations create exactly the tables in code, and go down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.db.migrate import alembic_config, current_revision, downgrade, upgrade
from gallery_gql.db.tables import metadata
from tests.factories import build_gallery
from tests.integrity import integrity_problems


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


async def _junction_shape(url: str) -> tuple[set[str], set[str], list[tuple[object, ...]]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        columns, indexes = await conn.run_sync(
            lambda sync: (
                {c["name"] for c in inspect(sync).get_columns("content_tags")},
                {i["name"] or "" for i in inspect(sync).get_indexes("content_tags")}
                | ({"pk"} if inspect(sync).get_pk_constraint("content_tags")["name"] else set()),
            )
        )
        links = [
            tuple(row)
            for row in await conn.execute(
                text(
                    "SELECT source, item_id, tag_key, created_at FROM content_tags ORDER BY 1, 2, 3"
                )
            )
        ]
    await engine.dispose()
    return columns, indexes, links


async def test_0003_down_and_up_keeps_the_links(database_url: str, engine: AsyncEngine) -> None:
    """0003 on a database holding links: down restores the quality copy from the items, the
    primary key and the TOP_RATED index; up drops them again; links and integrity survive."""
    await build_gallery(engine, regular=30, auto=60)
    await engine.dispose()
    columns, indexes, links = await _junction_shape(database_url)
    assert "quality_score" not in columns
    assert indexes == {"ix_content_tags_newest", "ix_content_tags_item"}
    assert links

    await asyncio.to_thread(downgrade, database_url, "0002")
    columns, indexes, down_links = await _junction_shape(database_url)
    assert "quality_score" in columns
    assert indexes == {"ix_content_tags_newest", "ix_content_tags_top_rated", "pk"}
    assert down_links == links
    copy = create_async_engine(database_url)
    async with copy.connect() as conn:
        wrong = await conn.scalar(
            text(
                "SELECT count(*) FROM content_tags ct LEFT JOIN content_items i"
                " ON ct.source = 0 AND i.id = ct.item_id LEFT JOIN content_items_auto a"
                " ON ct.source = 1 AND a.id = ct.item_id"
                " WHERE ct.quality_score IS DISTINCT FROM"
                " coalesce(i.quality_score, a.quality_score)"
            )
        )
    await copy.dispose()
    assert wrong == 0

    await asyncio.to_thread(upgrade, database_url)
    assert await _junction_shape(database_url) == (
        columns - {"quality_score"},
        {
            "ix_content_tags_newest",
            "ix_content_tags_item",
        },
        links,
    )
    fresh = create_async_engine(database_url)
    assert await integrity_problems(fresh) == []
    await fresh.dispose()
