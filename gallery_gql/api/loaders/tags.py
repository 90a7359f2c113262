"""Loaders for tags and the tag hierarchy.

Each loader batches every key asked for in one tick into one statement, so a list of N
tags costs the same number of statements for any N.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.loaders.base import EngineLoader
from gallery_gql.db.reads import ReadSource
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.lookups import fetch_tags, fetch_tags_by_name
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_tree import (
    fetch_ancestors,
    fetch_children,
    fetch_descendants,
    fetch_parents,
    fetch_public_counts,
)


class TagLoader(EngineLoader[UUID, TagRecord]):
    async def fetch(self, conn: AsyncConnection, keys: Sequence[UUID]) -> Mapping[UUID, TagRecord]:
        return await fetch_tags(conn, keys)


class TagByNameLoader(EngineLoader[str, TagRecord]):
    """Exact (case-sensitive) name → the tag."""

    async def fetch(self, conn: AsyncConnection, keys: Sequence[str]) -> Mapping[str, TagRecord]:
        return await fetch_tags_by_name(conn, keys)


class ParentsLoader(EngineLoader[UUID, list[TagRecord]]):
    """Tag id → its direct parents, by name."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[UUID]
    ) -> Mapping[UUID, list[TagRecord]]:
        return await fetch_parents(conn, keys)


class ChildrenLoader(EngineLoader[UUID, list[TagRecord]]):
    """Tag id → its direct children, by name."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[UUID]
    ) -> Mapping[UUID, list[TagRecord]]:
        return await fetch_children(conn, keys)


class AncestorsLoader(EngineLoader[UUID, list[TagRecord]]):
    """Tag id → every tag above it (transitively, each once), by name."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[UUID]
    ) -> Mapping[UUID, list[TagRecord]]:
        return await fetch_ancestors(conn, keys)


class DescendantsLoader(EngineLoader[UUID, list[TagRecord]]):
    """Tag id → every tag below it (transitively, each once), by name."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[UUID]
    ) -> Mapping[UUID, list[TagRecord]]:
        return await fetch_descendants(conn, keys)


class PublicCountsLoader(EngineLoader[int, dict[Source, int]]):
    """Tag key → public (non-private) items carrying the tag, per source."""

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[int]
    ) -> Mapping[int, dict[Source, int]]:
        return await fetch_public_counts(conn, keys)


@dataclass
class TagLoaders:
    by_id: TagLoader
    by_name: TagByNameLoader
    parents: ParentsLoader
    children: ChildrenLoader
    ancestors: AncestorsLoader
    descendants: DescendantsLoader
    public_counts: PublicCountsLoader

    def clear_all(self) -> None:
        """Forget every cached tag read (after a hierarchy change, or at request end)."""
        for loader in (
            self.by_id,
            self.by_name,
            self.parents,
            self.children,
            self.ancestors,
            self.descendants,
            self.public_counts,
        ):
            loader.clear_all()

    @classmethod
    def create(cls, engine: ReadSource) -> TagLoaders:
        return cls(
            by_id=TagLoader(engine),
            by_name=TagByNameLoader(engine),
            parents=ParentsLoader(engine),
            children=ChildrenLoader(engine),
            ancestors=AncestorsLoader(engine),
            descendants=DescendantsLoader(engine),
            public_counts=PublicCountsLoader(engine),
        )
