"""The Relay connection over content items, with an opt-in capped total count."""

from __future__ import annotations

import strawberry

from gallery_gql.api.context import Ctx
from gallery_gql.api.queries.content_page import count_page_matches
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.gallery.query.filters import ContentFilter
from gallery_gql.gallery.query.tag_stats import TagStats


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: CursorToken | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: CursorToken | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="An item on a page, with the cursor that points at it.")
class ContentItemEdge:
    cursor: CursorToken = strawberry.field(
        description="Opaque cursor: pass it as `cursor`/`after` (or `before`) to page on."
    )
    node: ContentItem = strawberry.field(description="The item.")


@strawberry.type(description="How many items match a filter, counted up to a cap.")
class TotalCount:
    count: int = strawberry.field(
        description="The exact count when `isExact`, else a lower bound (the cap)."
    )
    is_exact: bool = strawberry.field(
        description="False when more items match than were counted (show e.g. `1000+`)."
    )


@strawberry.type(description="A page of content items.")
class ContentItemConnection:
    edges: list[ContentItemEdge] = strawberry.field(description="The page's items in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the result.")
    content_filter: strawberry.Private[ContentFilter]
    tag_stats: strawberry.Private[TagStats]

    @strawberry.field(
        description="Matching items, counted up to a cap (1,000 by default; never a full "
        "count of a large result). Costs one extra query: ask only when shown."
    )
    async def total_count(self, info: Ctx) -> TotalCount:
        found = await count_page_matches(info.context, self.content_filter, self.tag_stats)
        return TotalCount(count=found.count, is_exact=found.is_exact)
