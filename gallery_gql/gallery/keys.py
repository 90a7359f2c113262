"""An item's identity: its source table and its id there (ids overlap across sources)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Source(IntEnum):
    """Which table an item lives in. Ids overlap across sources: an item is (source, id)."""

    REGULAR = 0
    AUTO = 1


@dataclass(frozen=True, order=True)
class ItemKey:
    source: Source
    id: int
