"""Queries over content items."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.content_query import ContentArgs, ContentQuery, build_content_query
from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import bad_input
from gallery_gql.api.global_id import decode_global_id, decode_item_key
from gallery_gql.api.paging import BOUNDS
from gallery_gql.api.selection import selects
from gallery_gql.api.types.connection import ContentItemConnection, ContentItemEdge, PageInfo
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.enums import ContentSort, TagMatchMode
from gallery_gql.api.types.filter_args import (
    CollectionsArg,
    CreatorArg,
    ExcludeTagNamesArg,
    ExcludeTagsArg,
    MatchArg,
    SearchArg,
    SourcesArg,
    TagNamesArg,
    TagsArg,
)
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.db.reads import run_read
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.query.cursor import Cursor, encode_cursor
from gallery_gql.gallery.query.fetch import Page, fetch_page
from gallery_gql.observability.metrics import STRATEGIES


async def load_visible_item(info: Ctx, key: ItemKey) -> ContentItem | None:
    """The item if the viewer may see it; null alike when absent or private to another,
    and a miss counted against the client (api/hidden_lookups.py)."""
    context = info.context
    record = await context.loaders.items.load(key)
    if record is None or not record.visible_to(context.viewer_id):
        if context.hidden_lookups is not None:
            context.hidden_lookups.missed(context.client)
        return None
    return ContentItem(record=record)


@strawberry.type
class ContentQueries:
    @strawberry.field(
        description="A page of gallery items, filtered by tags, creator, source and search, "
        "in a stable order, paged by keyset cursors. Private items appear only to their "
        "creator."
    )
    async def content_items(
        self,
        info: Ctx,
        tags: TagsArg = None,
        tag_names: TagNamesArg = None,
        match: MatchArg = TagMatchMode.ANY,
        exclude_tags: ExcludeTagsArg = None,
        exclude_tag_names: ExcludeTagNamesArg = None,
        creator: CreatorArg = None,
        sources: SourcesArg = None,
        collections: CollectionsArg = None,
        search: SearchArg = None,
        sort: Annotated[
            ContentSort, strawberry.argument(description="Page order.")
        ] = ContentSort.NEWEST,
        first: Annotated[
            int | None, strawberry.argument(description=f"Page size going forward. {BOUNDS}")
        ] = 25,
        cursor: Annotated[
            CursorToken | None,
            strawberry.argument(description="Return the items after this cursor (forward paging)."),
        ] = None,
        after: Annotated[
            CursorToken | None, strawberry.argument(description="Relay alias of `cursor`.")
        ] = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="Page size going backward; pages end at `before` (or at the end "
                f"of the result). `first` is ignored when `last` is given. {BOUNDS}",
            ),
        ] = None,
        before: Annotated[
            CursorToken | None,
            strawberry.argument(description="Return the items before this cursor (with `last`)."),
        ] = None,
    ) -> ContentItemConnection:
        args = ContentArgs(
            tags=tags,
            tag_names=tag_names,
            match=match,
            exclude_tags=exclude_tags,
            exclude_tag_names=exclude_tag_names,
            creator=creator,
            sources=sources,
            collections=collections,
            search=search,
            sort=sort,
            first=first,
            cursor=cursor,
            after=after,
            last=last,
            before=before,
        )
        context = info.context
        item_tags = selects(info.selected_fields, ("contentItems", "edges", "node", "tags"))

        async def read(conn: AsyncConnection) -> tuple[ContentQuery, Page]:
            query = await build_content_query(conn, args, context)
            page = await fetch_page(
                conn,
                query.content_filter,
                query.sort,
                query.page,
                query.stats,
                item_tags=item_tags,
            )
            return query, page

        query, page = await run_read(context.reads, read)
        for key, item in page.items.items():  # primed for `node` lookups, if whole
            if item.tags is not None:
                context.loaders.items.prime(key, item)
        STRATEGIES.labels(page.strategy).inc()
        secret = context.settings.signing_secret()
        digest = query.content_filter.digest(query.sort)
        edges = []
        for position in page.positions:
            record = page.items[position.item]
            at = Cursor(digest, query.sort, position)
            token = CursorToken(encode_cursor(at, secret, viewer=context.viewer_id))
            edges.append(ContentItemEdge(cursor=token, node=ContentItem(record=record)))
        page_info = PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return ContentItemConnection(
            edges=edges,
            page_info=page_info,
            content_filter=query.content_filter,
            tag_stats=query.stats,
        )

    @strawberry.field(description="One content item by its global id; null if not visible.")
    async def content_item(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="ContentItem.id")],
    ) -> ContentItem | None:
        type_name, key = decode_global_id(id)
        if type_name != "ContentItem":
            raise bad_input(f"id {id[:64]!r} is not a ContentItem id")
        return await load_visible_item(info, decode_item_key(key))
