"""Loaders for content items and their tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.loaders.base import EngineLoader
from gallery_gql.gallery.filters import ItemKey
from gallery_gql.gallery.lookups import fetch_item_tags, fetch_items
from gallery_gql.gallery.records import ItemRecord, TagRecord


class ItemLoader(EngineLoader[ItemKey, ItemRecord]):
    """(source, id) → the item row, whoever may see it (resolvers check privacy)."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[ItemKey]
    ) -> Mapping[ItemKey, ItemRecord]:
        return await fetch_items(conn, keys)


class TagsByItemLoader(EngineLoader[ItemKey, list[TagRecord]]):
    """(source, id) → the item's tags, read from the junction."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[ItemKey]
    ) -> Mapping[ItemKey, list[TagRecord]]:
        return await fetch_item_tags(conn, keys)
