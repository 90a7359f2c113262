"""The Tag type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gallery_gql.api.context import Ctx, GalleryContext
from gallery_gql.api.global_id import encode_global_id
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.api.types.node import Node
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.records import TagRecord


def _tags(records: list[TagRecord] | None) -> list[Tag]:
    return [Tag(record=record) for record in records or []]


@strawberry.type(description="A label on content items; tags form a hierarchy (a DAG).")
class Tag(Node):
    record: strawberry.Private[TagRecord]
    # Plain fields, filled from the record: a page's `tags { name }` resolves ~2,000 of
    # them, and graphql-core's fast path for plain attributes skips the resolver machinery.
    id: strawberry.ID = strawberry.field(
        description="The tag's global id; accepted wherever a tag id is expected."
    )
    database_id: strawberry.ID = strawberry.field(
        description="The tag's UUID; also accepted wherever a tag id is expected."
    )
    name: str = strawberry.field(
        description="The tag's unique name, as written (e.g. `3D-render`)."
    )
    created_at: datetime = strawberry.field(description="When the tag was created.")

    def __init__(self, record: TagRecord) -> None:  # dataclasses keep an explicit __init__
        self.record = record
        self.id = strawberry.ID(encode_global_id("Tag", str(record.id)))
        self.database_id = strawberry.ID(str(record.id))
        self.name = record.name
        self.created_at = record.created_at

    @strawberry.field(description="The tag's direct parents (a tag may have several), by name.")
    async def parents(self, info: Ctx) -> list[Tag]:
        return _tags(await info.context.loaders.tags.parents.load(self.record.id))

    @strawberry.field(description="The tags directly below this one, by name.")
    async def children(self, info: Ctx) -> list[Tag]:
        return _tags(await info.context.loaders.tags.children.load(self.record.id))

    @strawberry.field(
        description="Every tag above this one (parents, their parents, ...), each once and "
        "never the tag itself, by name."
    )
    async def ancestors(self, info: Ctx) -> list[Tag]:
        return _tags(await info.context.loaders.tags.ancestors.load(self.record.id))

    @strawberry.field(
        description="Every tag below this one (children, their children, ...), each once and "
        "never the tag itself, by name."
    )
    async def descendants(self, info: Ctx) -> list[Tag]:
        return _tags(await info.context.loaders.tags.descendants.load(self.record.id))

    @strawberry.field(
        description="How many public items carry this tag directly (not via descendants), "
        "summed over `sources`. Private items are not counted, not even for their creator."
    )
    async def item_count(
        self,
        info: Ctx,
        sources: Annotated[
            list[ContentSource] | None,
            strawberry.argument(description="Which collections to count (default: both)."),
        ] = None,
    ) -> int:
        return await public_item_count(info.context, self.record, sources)


async def public_item_count(
    context: GalleryContext, record: TagRecord, sources: list[ContentSource] | None
) -> int:
    """`Tag.itemCount` (the resolver and the compiled path both count by it)."""
    counts = await context.loaders.tags.public_counts.load(record.tag_key) or {}
    wanted = {s.to_domain() for s in sources} if sources is not None else set(Source)
    return sum(counts.get(source, 0) for source in wanted)
