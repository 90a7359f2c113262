"""What the content-write tests make and read back: a new item's fields, an item created
through the write path, its row, the table counts and a tag's per-source counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.inputs import NewItem
from gallery_gql.gallery.writes.items import create_items
from gallery_gql.gallery.writes.tag_refs import resolve_tag_refs
from tests.factories import write_transaction


def new_item(source: Source = Source.REGULAR, **fields: Any) -> NewItem:
    values: dict[str, Any] = {
        "source": source,
        "title": "A cat",
        "content_type": "image",
        "content_data": "/data/cat.png",
        "prompt": "a cat on a mat",
    }
    values.update(fields)
    return NewItem(**values)


async def item_row(engine: AsyncEngine, key: ItemKey) -> Any:
    async with engine.connect() as conn:
        table = CONTENT_TABLES[key.source].name
        result = await conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": key.id})
        return result.first()


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("content_items", "content_items_auto", "content_tags", "tags")
        }


async def tag_counts(engine: AsyncEngine, tag: UUID, source: Source) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT c.items, c.private_items FROM tag_counts c JOIN tags t "
                    "USING (tag_key) WHERE t.id = :tag AND c.source = :source"
                ),
                {"tag": tag, "source": int(source)},
            )
        ).first()
    return (row.items, row.private_items) if row else (0, 0)


async def item_of(
    engine: AsyncEngine, *, creator: UUID, private: bool, tags: Sequence[str] = ("tag-1", "tag-2")
) -> ItemKey:
    """A new regular item with these owner, privacy and tags."""

    async def make(conn: AsyncConnection) -> ItemKey:
        refs = frozenset(await resolve_tag_refs(conn, tags))
        item = new_item(is_private=private, tags=refs, quality_score=0.5)
        (write,) = await create_items(conn, creator, [item])
        return write.item

    key: ItemKey = await write_transaction(engine, make)
    return key


async def in_tx(engine: AsyncEngine, fn: Any) -> Any:
    return await write_transaction(engine, fn)
