"""The ContentItem type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.global_id import item_global_id
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.api.types.node import Node
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.thumbnails import best_thumbnail


@strawberry.type(description="A generated image (or other media) in the gallery.")
class ContentItem(Node):
    record: strawberry.Private[ItemRecord]

    @strawberry.field(description="The item's global id (it encodes source and database id).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(item_global_id(self.record.key))

    @strawberry.field(
        description="The item's id within its source's table; unique only with `source`."
    )
    def database_id(self) -> int:
        return self.record.id

    @strawberry.field(description="Which collection the item belongs to.")
    def source(self) -> ContentSource:
        return ContentSource.from_domain(self.record.source)

    @strawberry.field(description="The item's title.")
    def title(self) -> str:
        return self.record.title

    @strawberry.field(description="Media kind: image, video, audio or text.")
    def content_type(self) -> str:
        return self.record.content_type

    @strawberry.field(description="Path of the full-size content.")
    def content_data(self) -> str:
        return self.record.content_data

    @strawberry.field(
        description="Best available thumbnail path: the requested resolution if present, "
        "else the largest alternative, else the plain thumbnail, else the content itself."
    )
    def thumbnail(
        self,
        resolution: Annotated[
            str | None, strawberry.argument(description="Preferred resolution such as `512x512`.")
        ] = None,
    ) -> str:
        r = self.record
        return best_thumbnail(r.content_data, r.path_thumb, r.path_thumbs_alt_res, resolution)

    @strawberry.field(description="The prompt that generated the item (immutable).")
    def prompt(self) -> str:
        return self.record.prompt

    @strawberry.field(description="Free-form generation metadata (model, steps, ...).")
    def metadata(self) -> JSON:
        return cast(JSON, self.record.item_metadata)

    @strawberry.field(description="Quality score between 0 and 1.")
    def quality_score(self) -> float:
        return self.record.quality_score

    @strawberry.field(description="Whether only the creator can see the item.")
    def is_private(self) -> bool:
        return self.record.is_private

    @strawberry.field(description="When the item was created.")
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field(description="When the item was last changed.")
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @strawberry.field(
        description="Incremented by every change; pass it as `expectedVersion` to a mutation."
    )
    def version(self) -> int:
        return self.record.version

    @strawberry.field(description="Who created the item.")
    async def creator(self, info: Info[GalleryContext, None]) -> User:
        user = await info.context.loaders.users.load(self.record.creator_id)
        if user is None:
            raise LookupError(f"creator {self.record.creator_id} of {self.record.key} missing")
        return User(record=user)

    @strawberry.field(description="The item's tags, ordered by name.")
    async def tags(self, info: Info[GalleryContext, None]) -> list[Tag]:
        records = await info.context.loaders.tag_sets.load(self.record.tags)
        return [Tag(record=record) for record in records or []]
