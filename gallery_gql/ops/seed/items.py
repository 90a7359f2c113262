"""The seeded items' scalars: source, id, time, quality, privacy and creator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.streams import ITEMS_FROM, ITEMS_UNTIL, Stream, pg_micros, stream_rng

REGULAR_SHARE = 0.055
PRIVATE_SHARE = 0.10


@dataclass(frozen=True)
class Items:
    """Per-item scalars in global order (by created_at); ids ascend with time per source."""

    source: NDArray[np.int16]
    item_id: NDArray[np.int32]
    created_us: NDArray[np.int64]
    quality: NDArray[np.float64]
    private: NDArray[np.bool_]
    creator: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.source)


def build_items(count: int, users: int, seed: int) -> Items:
    rng = stream_rng(seed, Stream.ITEMS)
    created = np.sort(rng.integers(pg_micros(ITEMS_FROM), pg_micros(ITEMS_UNTIL), count))
    source = (rng.random(count) >= REGULAR_SHARE).astype(np.int16)
    item_id = np.empty(count, dtype=np.int32)
    for value in (0, 1):
        mask = source == value
        item_id[mask] = np.arange(1, int(mask.sum()) + 1, dtype=np.int32)
    quality = rng.random(count)
    private = rng.random(count) < PRIVATE_SHARE
    creator = rng.integers(0, users, count).astype(np.int32)
    return Items(source, item_id, created, quality, private, creator)
