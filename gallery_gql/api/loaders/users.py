"""Loaders for users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.loaders.base import EngineLoader
from gallery_gql.gallery.lookups import fetch_users
from gallery_gql.gallery.records import UserRecord


class UserLoader(EngineLoader[UUID, UserRecord]):
    async def fetch(self, conn: AsyncConnection, keys: Sequence[UUID]) -> Mapping[UUID, UserRecord]:
        return await fetch_users(conn, keys)
