"""What a write asks for and what it answers: new items, changes, batch requests, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from uuid import UUID

from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.tag_refs import TagRef


@dataclass(frozen=True)
class Actor:
    """Who asks for a write: creators may change their own items, admins any item."""

    user_id: UUID
    is_admin: bool = False


class _Unset(Enum):
    UNSET = "UNSET"


UNSET = _Unset.UNSET
"""An `ItemChanges` field left as it is."""


@dataclass(frozen=True)
class NewItem:
    source: Source
    title: str
    content_type: str
    content_data: str
    prompt: str
    path_thumb: str | None = None
    path_thumbs_alt_res: dict[str, str] | None = None
    item_metadata: dict[str, Any] = field(default_factory=dict)
    quality_score: float = 0.0
    is_private: bool = False
    tags: frozenset[TagRef] = frozenset()

    def columns(self) -> dict[str, Any]:
        """The item's row values (without id, source and tags)."""
        return {
            "title": self.title,
            "content_type": self.content_type,
            "content_data": self.content_data,
            "path_thumb": self.path_thumb,
            "path_thumbs_alt_res": self.path_thumbs_alt_res,
            "prompt": self.prompt,
            "item_metadata": self.item_metadata,
            "quality_score": float(self.quality_score),
            "is_private": self.is_private,
        }


@dataclass(frozen=True)
class ItemChanges:
    """The mutable fields; UNSET leaves a field as it is. The prompt never changes."""

    title: str | _Unset | None = UNSET
    content_type: str | _Unset | None = UNSET
    content_data: str | _Unset | None = UNSET
    path_thumb: str | _Unset | None = UNSET
    path_thumbs_alt_res: dict[str, str] | _Unset | None = UNSET
    item_metadata: dict[str, Any] | _Unset | None = UNSET
    quality_score: float | _Unset | None = UNSET
    is_private: bool | _Unset | None = UNSET

    def given(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) is not UNSET
        }


@dataclass(frozen=True)
class CreateRequest:
    """One item to create; its tags are given as values (tag UUIDs or exact names)."""

    item: NewItem
    tag_values: tuple[str, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RetagRequest:
    """Replace an item's tags (`set`), or add and remove some; values are tag UUIDs or
    exact names."""

    item: ItemKey
    set: tuple[str, ...] | None = None
    add: tuple[str, ...] | None = None
    remove: tuple[str, ...] | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ItemWrite:
    """What a write did to an item; `replayed` when an idempotency key returned an
    earlier request's result instead of writing."""

    item: ItemKey
    version: int
    tags: tuple[UUID, ...]
    replayed: bool = False
