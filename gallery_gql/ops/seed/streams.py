"""What every distribution of the seed shares: generator streams, chunks and the calendar.

Everything is drawn from generators seeded by `(seed, stream, chunk)`, so a plan always
yields the same data, and the per-chunk streams keep that true however the loader batches.
Items are generated in fixed chunks of `CHUNK_ITEMS` global positions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import IntEnum

import numpy as np

CHUNK_ITEMS = 20_000
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
USERS_FROM = datetime(2025, 4, 1, tzinfo=UTC)
ITEMS_FROM = datetime(2025, 5, 1, tzinfo=UTC)
ITEMS_UNTIL = datetime(2025, 10, 1, tzinfo=UTC)  # exclusive: the last day is 2025-09-30
TAGS_CREATED = datetime(2025, 4, 1, tzinfo=UTC)


class Stream(IntEnum):
    USERS = 1
    TAGS = 2
    ITEMS = 3
    LINKS = 4
    TEXT = 5
    ADVERSARIAL = 6


def stream_rng(seed: int, stream: Stream, *extra: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(stream), *extra])


def pg_micros(moment: datetime) -> int:
    """Microseconds since PostgreSQL's epoch, the unit of binary timestamps."""
    delta = moment - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def random_uuids(rng: np.random.Generator, count: int) -> list[uuid.UUID]:
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4) for i in range(count)]


def chunk_bounds(count: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + CHUNK_ITEMS, count)) for lo in range(0, count, CHUNK_ITEMS)]
