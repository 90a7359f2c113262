"""A DataLoader whose every batch runs on its own pooled connection (`run_read`).

Loaders run their batches as concurrent tasks, so they must never share a connection.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.reads import ReadSource, run_read

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class EngineLoader(DataLoader[K, V | None], Generic[K, V]):
    """Subclasses implement `fetch`: keys → {key: value}; missing keys load as None."""

    def __init__(self, engine: ReadSource) -> None:
        super().__init__()
        self.engine = engine

    async def fetch(self, conn: AsyncConnection, keys: Sequence[K]) -> Mapping[K, V]:
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[K]) -> list[V | None]:
        found = await run_read(self.engine, lambda conn: self.fetch(conn, keys))
        return [found.get(key) for key in keys]
