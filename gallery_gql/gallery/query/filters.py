"""Validated value objects describing what a page request asks for."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from uuid import UUID

from gallery_gql.gallery.keys import ItemKey, Source

_WORD = re.compile(r"[^\W_]+")


def normalize_search(text: str | None) -> str | None:
    """Search text as the words it matches (lowercased, punctuation dropped); None if none."""
    words = _WORD.findall((text or "").lower())
    return " ".join(words) or None


class Sort(Enum):
    """Page order. Ties break on (source, id) in the same direction, so order is total."""

    NEWEST = "NEWEST"
    OLDEST = "OLDEST"
    TOP_RATED = "TOP_RATED"
    LOWEST_RATED = "LOWEST_RATED"

    @property
    def column(self) -> str:
        return "created_at" if self in (Sort.NEWEST, Sort.OLDEST) else "quality_score"

    @property
    def descending(self) -> bool:
        return self in (Sort.NEWEST, Sort.TOP_RATED)


class TagMatch(Enum):
    ANY = "ANY"
    ALL = "ALL"


SortValue = datetime | float


@dataclass(frozen=True)
class Position:
    """An item's place in a sort order: the keyset a cursor carries."""

    value: SortValue
    source: Source
    id: int

    @property
    def item(self) -> ItemKey:
        return ItemKey(self.source, self.id)


@dataclass(frozen=True)
class ContentFilter:
    """Which items a page draws from, with tags already resolved to their keys.

    `viewer_id` governs privacy (private items are visible only to their creator);
    `creator_id` keeps one creator's items, `exclude_creator_id` drops one creator's.
    """

    tag_keys: tuple[int, ...] = ()
    match: TagMatch = TagMatch.ANY
    exclude_tag_keys: tuple[int, ...] = ()
    sources: tuple[Source, ...] = (Source.REGULAR, Source.AUTO)
    creator_id: UUID | None = None
    exclude_creator_id: UUID | None = None
    search: str | None = None
    viewer_id: UUID | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag_keys", tuple(sorted(set(self.tag_keys))))
        object.__setattr__(self, "exclude_tag_keys", tuple(sorted(set(self.exclude_tag_keys))))
        object.__setattr__(self, "sources", tuple(sorted(set(self.sources))))
        object.__setattr__(self, "search", normalize_search(self.search))
        if len(self.tag_keys) <= 1:
            object.__setattr__(self, "match", TagMatch.ANY)

    @property
    def matches_nothing(self) -> bool:
        """True when the filter provably selects no item (no source, or a tag both kept
        and excluded under ALL)."""
        if not self.sources:
            return True
        if self.creator_id is not None and self.creator_id == self.exclude_creator_id:
            return True
        if self.match is TagMatch.ALL and set(self.tag_keys) & set(self.exclude_tag_keys):
            return True
        return bool(self.tag_keys) and set(self.tag_keys) <= set(self.exclude_tag_keys)

    def digest(self, sort: Sort) -> str:
        """A short, stable fingerprint of the filter and sort that cursors are bound to."""
        parts = [
            sort.value,
            self.match.value,
            ",".join(map(str, self.tag_keys)),
            ",".join(map(str, self.exclude_tag_keys)),
            ",".join(str(int(s)) for s in self.sources),
            str(self.creator_id or ""),
            str(self.exclude_creator_id or ""),
            self.search or "",
        ]
        return hashlib.blake2s("\x1f".join(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class PageRequest:
    """`size` items after `after` (forward) or before `before` (backward, `last`)."""

    size: int
    backward: bool = False
    after: Position | None = None
    before: Position | None = None
