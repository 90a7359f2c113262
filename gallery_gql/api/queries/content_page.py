"""Reading one `contentItems` page: the arguments resolved, the page's statement run, its
items primed for `node` lookups, a cursor sealed for each edge. The resolver
(queries/content.py) and the compiled path (api/documents/compiled.py) both read pages
through `read_content_page`, so the two cannot differ in what a page holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.content_query import ContentArgs, ContentQuery, build_content_query
from gallery_gql.api.context import GalleryContext
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.db.reads import run_read
from gallery_gql.gallery.query.count import Count, count_matches
from gallery_gql.gallery.query.cursor import encode_cursors
from gallery_gql.gallery.query.fetch import Page, fetch_page
from gallery_gql.gallery.query.filters import ContentFilter
from gallery_gql.gallery.query.tag_stats import TagStats
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.observability.metrics import STRATEGIES


@dataclass(frozen=True)
class ContentPage:
    query: ContentQuery
    page: Page
    edges: list[tuple[CursorToken, ItemRecord]]
    """Each edge's cursor and item, in page order."""


async def read_content_page(
    context: GalleryContext, args: ContentArgs, item_tags: bool
) -> ContentPage:
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
    tokens = encode_cursors(
        query.content_filter.digest(query.sort),
        query.sort,
        page.positions,
        context.settings.signing_secret(),
        viewer=context.viewer_id,
    )
    edges = [
        (CursorToken(token), page.items[position.item])
        for token, position in zip(tokens, page.positions, strict=True)
    ]
    return ContentPage(query, page, edges)


async def count_page_matches(
    context: GalleryContext, content_filter: ContentFilter, stats: TagStats
) -> Count:
    """`totalCount`: the page's filter counted up to the cap (one more statement)."""
    return await run_read(
        context.reads,
        lambda conn: count_matches(conn, content_filter, stats, context.settings.count_cap),
    )
