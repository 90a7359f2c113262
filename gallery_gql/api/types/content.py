"""The ContentItem type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from gallery_gql.api.context import Ctx
from gallery_gql.api.global_id import item_global_id_of
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.api.types.node import Node
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User
from gallery_gql.gallery.json_depth import MAX_METADATA_DEPTH, cut_at_depth
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.thumbnails import best_thumbnail, media_locator


@strawberry.type(description="A generated image (or other media) in the gallery.")
class ContentItem(Node):
    record: strawberry.Private[ItemRecord]
    # Plain fields, filled from the record: a grid page resolves ~150 of them, and plain
    # attributes skip strawberry's per-field resolver machinery (docs/decisions.md).
    id: strawberry.ID = strawberry.field(
        description="The item's global id (it encodes source and database id)."
    )
    database_id: int = strawberry.field(
        description="The item's id within its source's table; unique only with `source`."
    )
    source: ContentSource = strawberry.field(description="Which collection the item belongs to.")
    title: str = strawberry.field(description="The item's title.")
    content_type: str = strawberry.field(description="Media kind: image, video, audio or text.")
    content_data: str = strawberry.field(description="Path of the full-size content.")
    prompt: str = strawberry.field(description="The prompt that generated the item (immutable).")
    quality_score: float = strawberry.field(description="Quality score between 0 and 1.")
    is_private: bool = strawberry.field(description="Whether only the creator can see the item.")
    created_at: datetime = strawberry.field(description="When the item was created.")
    updated_at: datetime = strawberry.field(description="When the item was last changed.")
    version: int = strawberry.field(
        description="Incremented by every change; pass it as `expectedVersion` to a mutation."
    )

    def __init__(self, record: ItemRecord) -> None:  # dataclasses keep an explicit __init__
        self.record = record
        self.id = strawberry.ID(item_global_id_of(record.source, record.id))
        self.database_id = record.id
        self.source = ContentSource.from_domain(record.source)
        self.title = record.title
        self.content_type = record.content_type
        self.content_data = record.content_data
        self.prompt = record.prompt
        self.quality_score = record.quality_score
        self.is_private = record.is_private
        self.created_at = record.created_at
        self.updated_at = record.updated_at
        self.version = record.version

    @strawberry.field(
        description="Free-form generation metadata (model, steps, ...): a JSON object "
        f"nested at most {MAX_METADATA_DEPTH} levels deep."
    )
    def metadata(self) -> JSON:
        # Cut, not refused: a value stored before writes bounded the depth must not make
        # every response that lists it fail (gallery/json_depth.py).
        return cast(JSON, cut_at_depth(self.record.item_metadata))

    @strawberry.field(
        description="URL of the best available thumbnail: the requested resolution if "
        "present, else the largest alternative, else the plain thumbnail, else the content "
        "itself. Under the server's `/media/` route or the configured media base URL (a "
        "path relative to the API's origin in the first case); the stored path when the "
        "server is configured with neither."
    )
    def thumbnail(
        self,
        info: Ctx,
        resolution: Annotated[
            str | None, strawberry.argument(description="Preferred resolution such as `512x512`.")
        ] = None,
    ) -> str:
        # Replaced on the built schema by `thumbnail_resolver` (api/schema.py).
        resolve = thumbnail_resolver(info.context.settings.media_url_prefix)
        return resolve(self, info, resolution)

    @strawberry.field(description="Who created the item.")
    async def creator(self, info: Ctx) -> User:
        user = await info.context.loaders.users.load(self.record.creator_id)
        if user is None:
            raise LookupError(f"creator {self.record.creator_id} of {self.record.key} missing")
        return User(record=user)

    @strawberry.field(description="The item's tags, ordered by name.")
    async def tags(self, info: Ctx) -> list[Tag]:
        tag_ids = self.record.tags
        if tag_ids is None:  # the page skipped the column: the selection did not show `tags`
            whole = await info.context.loaders.items.load(self.record.key)
            tag_ids = whole.tags if whole is not None and whole.tags is not None else ()
        records = await info.context.loaders.tag_sets.load(tag_ids)
        return [Tag(record=record) for record in records or []]


ThumbnailResolver = Callable[[ContentItem, object, str | None], str]


def thumbnail_resolver(media_url_prefix: str | None) -> ThumbnailResolver:
    """`ContentItem.thumbnail` as a plain function, installed as the field's graphql-core
    resolver (api/schema.py): the one grid field with an argument, resolved 25 times a
    page. The URL prefix is bound once, not looked up per call."""
    if media_url_prefix is None:
        return thumbnail_path
    locate = media_locator(media_url_prefix)

    def thumbnail_url(
        item: ContentItem, _info: object = None, resolution: str | None = None
    ) -> str:
        return locate(thumbnail_path(item, _info, resolution))

    return thumbnail_url


def thumbnail_path(item: ContentItem, _info: object = None, resolution: str | None = None) -> str:
    """The thumbnail as stored (no media location configured)."""
    r = item.record
    return best_thumbnail(r.content_data, r.path_thumb, r.path_thumbs_alt_res, resolution)
