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

MAX_SEARCH_CHARACTERS = 200
MAX_SEARCH_WORDS = 16
"""Bounds on content search text, checked before any SQL: PostgreSQL's text-search parsing
does not check for cancellation, so a 240 KB search held a backend for ~12 s past its
statement timeout, and 50k words overflowed its stack. At these bounds `plainto_tsquery`
takes microseconds."""


class SearchTooLongError(ValueError):
    """Search text over MAX_SEARCH_CHARACTERS characters or MAX_SEARCH_WORDS words."""


def normalize_search(text: str | None) -> str | None:
    """Search text as the words it matches (lowercased, punctuation dropped); None if none."""
    words = _WORD.findall((text or "").lower())
    return " ".join(words) or None


def check_search(text: str | None) -> str | None:
    """`text` if it is within the search bounds; SearchTooLongError otherwise."""
    if text is None:
        return None
    if len(text) > MAX_SEARCH_CHARACTERS:
        raise SearchTooLongError(
            f"`search` takes at most {MAX_SEARCH_CHARACTERS} characters, got {len(text)}"
        )
    words = len(_WORD.findall(text))
    if words > MAX_SEARCH_WORDS:
        raise SearchTooLongError(f"`search` takes at most {MAX_SEARCH_WORDS} words, got {words}")
    return text


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


class Collection(Enum):
    """The gallery's four collections: the viewer's own items and everyone else's (the
    community's), in each source."""

    USER_REGULAR = "USER_REGULAR"
    USER_AUTO = "USER_AUTO"
    COMMUNITY_REGULAR = "COMMUNITY_REGULAR"
    COMMUNITY_AUTO = "COMMUNITY_AUTO"

    @property
    def source(self) -> Source:
        return Source.REGULAR if self.name.endswith("REGULAR") else Source.AUTO

    @property
    def viewers_own(self) -> bool:
        return self.name.startswith("USER")


class Whose(Enum):
    """Whose items one source contributes to a page."""

    ANYONE = "anyone"
    VIEWER = "viewer"  # the viewer's own (creator = viewer)
    OTHERS = "others"  # everyone else's (creator <> viewer)


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
    `collections` (None: no such filter) keeps the items of the named collections: each
    source contributes anyone's, the viewer's or the others' items (`whose`), and a source
    none of them names is dropped from `sources`.
    """

    tag_keys: tuple[int, ...] = ()
    match: TagMatch = TagMatch.ANY
    exclude_tag_keys: tuple[int, ...] = ()
    sources: tuple[Source, ...] = (Source.REGULAR, Source.AUTO)
    creator_id: UUID | None = None
    exclude_creator_id: UUID | None = None
    search: str | None = None
    collections: frozenset[Collection] | None = None
    viewer_id: UUID | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag_keys", tuple(sorted(set(self.tag_keys))))
        object.__setattr__(self, "exclude_tag_keys", tuple(sorted(set(self.exclude_tag_keys))))
        sources = sorted({source for source in self.sources if self.whose(source) is not None})
        object.__setattr__(self, "sources", tuple(sources))
        object.__setattr__(self, "search", normalize_search(self.search))
        if len(self.tag_keys) <= 1:
            object.__setattr__(self, "match", TagMatch.ANY)

    def whose(self, source: Source) -> Whose | None:
        """Whose items `source` contributes under `collections`; None: none at all. An
        anonymous viewer owns nothing, and every public item is the community's."""
        if self.collections is None:
            return Whose.ANYONE
        named = [c for c in self.collections if c.source is source]
        own = self.viewer_id is not None and any(c.viewers_own for c in named)
        community = any(not c.viewers_own for c in named)
        if own:
            return Whose.ANYONE if community else Whose.VIEWER
        if community:
            return Whose.OTHERS if self.viewer_id is not None else Whose.ANYONE
        return None

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
            "*" if self.collections is None else ",".join(sorted(c.name for c in self.collections)),
        ]
        return hashlib.blake2s("\x1f".join(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class PageRequest:
    """`size` items after `after` (forward) or before `before` (backward, `last`)."""

    size: int
    backward: bool = False
    after: Position | None = None
    before: Position | None = None
