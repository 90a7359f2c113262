"""An item's identity: its source table and its id there (ids overlap across sources)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Source(IntEnum):
    """Which table an item lives in. Ids overlap across sources: an item is (source, id)."""

    REGULAR = 0
    AUTO = 1


SOURCE_OF_NUMBER: dict[int, Source] = {int(source): source for source in Source}
"""A row's `source` column as its member: a lookup, cheaper than calling the enum (done
for every row of a page)."""


@dataclass(frozen=True, order=True)
class ItemKey:
    source: Source
    id: int
