"""Plain rows as the domain hands them out: no ORM objects on the hot path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gallery_gql.gallery.keys import ItemKey, Source


@dataclass(frozen=True, slots=True)
class ItemRecord:
    source: Source
    id: int
    title: str
    content_type: str
    content_data: str
    path_thumb: str | None
    path_thumbs_alt_res: dict[str, str] | None
    prompt: str
    item_metadata: dict[str, Any]
    creator_id: UUID
    quality_score: float
    is_private: bool
    created_at: datetime
    updated_at: datetime
    tags: tuple[UUID, ...] | None
    """The tag array; None when the read skipped it (a page whose query asked no tags)."""
    version: int

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.source, self.id)

    def visible_to(self, viewer_id: UUID | None) -> bool:
        return not self.is_private or (viewer_id is not None and viewer_id == self.creator_id)


@dataclass(frozen=True, slots=True)
class TagRecord:
    id: UUID
    tag_key: int
    name: str
    tag_metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: UUID
    username: str
    email: str
    is_active: bool
    is_admin: bool
    created_at: datetime
