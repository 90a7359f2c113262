"""What a live subscription sends: one event per written item."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from gallery_gql.api.types.content import ContentItem
from gallery_gql.gallery.item_events import EventKind


@strawberry.enum(description="What a committed write did to an item.")
class ContentItemEventKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="The item was created.")
    RETAGGED = strawberry.enum_value("RETAGGED", description="The item's tags changed.")
    UPDATED = strawberry.enum_value(
        "UPDATED", description="The item's fields changed (title, privacy, score...)."
    )
    DELETED = strawberry.enum_value("DELETED", description="The item was deleted.")

    @classmethod
    def from_domain(cls, kind: EventKind) -> ContentItemEventKind:
        return cls[kind.name]


@strawberry.type(description="A committed write to an item the subscription's filter selects.")
class ContentItemEvent:
    kind: ContentItemEventKind = strawberry.field(description="What the write did.")
    item_id: strawberry.ID = strawberry.field(description="The item's global id (ContentItem.id).")
    item: ContentItem | None = strawberry.field(
        description="The item as it is after the write, when the filter selects it. Null "
        "when it does not (any more): a RETAGGED or UPDATED item that left the filter or "
        "is no longer visible to the viewer, a DELETED item. Drop it from the view then."
    )
    renders: strawberry.Private[dict[Any, Any] | None] = None
    """Its delivery's renders, shared by the subscribers it goes to (`api/live_renders`)."""
