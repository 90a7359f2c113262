"""Loaders for content items and their tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.loaders.base import EngineLoader
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.lookups import fetch_items, fetch_tags
from gallery_gql.gallery.records import ItemRecord, TagRecord


class ItemLoader(EngineLoader[ItemKey, ItemRecord]):
    """(source, id) → the item row, whoever may see it (resolvers check privacy)."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[ItemKey]
    ) -> Mapping[ItemKey, ItemRecord]:
        return await fetch_items(conn, keys)


class TagSetLoader(EngineLoader[tuple[UUID, ...], list[TagRecord]]):
    """An item's tag array → its tags, ordered by name.

    The array and the junction are written together under the item's lock, so the array
    (already on the loaded row) is the cheap source: one statement reads every distinct
    tag of the page, instead of one joined row per item-tag link.
    """

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[tuple[UUID, ...]]
    ) -> Mapping[tuple[UUID, ...], list[TagRecord]]:
        found = await fetch_tags(conn, list({tag_id for key in keys for tag_id in key}))
        return {key: sorted((found[t] for t in key if t in found), key=_by_name) for key in keys}


def _by_name(record: TagRecord) -> str:
    return record.name
