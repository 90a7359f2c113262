"""A DataLoader whose every batch runs on its own pooled connection.

Loaders run their batches as concurrent tasks, so they must never share a connection.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class EngineLoader(DataLoader[K, V | None], Generic[K, V]):
    """Subclasses implement `fetch`: keys → {key: value}; missing keys load as None."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def fetch(self, conn: AsyncConnection, keys: Sequence[K]) -> Mapping[K, V]:
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[K]) -> list[V | None]:
        async with self.engine.connect() as conn:
            found = await self.fetch(conn, keys)
        return [found.get(key) for key in keys]
