"""Reading one `contentItems` page: the arguments resolved, the page's statement run, its
items primed for `node` lookups, its edges' cursors sealed. The resolver
(queries/content.py) reads pages through `read_content_page`, the compiled path
(api/documents/compiled.py) through `read_content_rows`: the same statement on the same
route, the rows made into records or rendered as they are, so the two cannot differ in
what a page holds. The compiled path seals only the cursors its document shows (a page's
two ends for `pageInfo` alone); sealing is deterministic, so a cursor is the same
whichever path sealed it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.content_query import ContentArgs, ContentQuery, build_content_query
from gallery_gql.api.context import GalleryContext
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.db.reads import on_held_connection, run_read
from gallery_gql.gallery.query.count import Count, count_matches
from gallery_gql.gallery.query.cursor import encode_cursors
from gallery_gql.gallery.query.fetch import Page, PageRows, fetch_page, fetch_page_rows
from gallery_gql.gallery.query.filters import ContentFilter, Position
from gallery_gql.gallery.query.tag_stats import TagStats
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.observability.metrics import count_strategy

P = TypeVar("P", Page, PageRows)


@dataclass(frozen=True)
class ContentPage:
    query: ContentQuery
    page: Page
    edges: list[tuple[CursorToken, ItemRecord]]
    """Each edge's cursor and item, in page order."""


@dataclass(frozen=True)
class ContentRows:
    query: ContentQuery
    page: PageRows
    secret: str = field(repr=False)
    viewer: UUID | None
    """What the page's cursors are sealed with and bound to."""

    def cursors(self) -> list[CursorToken]:
        """Each row's cursor, in page order."""
        return _sealed(self.query, self.page.positions, self.secret, self.viewer)

    def end_cursors(self) -> tuple[CursorToken | None, CursorToken | None]:
        """The first and the last row's cursors (`pageInfo`'s), sealing no other."""
        positions = self.page.positions
        if not positions:
            return None, None
        ends = positions[:1] if len(positions) == 1 else [positions[0], positions[-1]]
        sealed = _sealed(self.query, ends, self.secret, self.viewer)
        return sealed[0], sealed[-1]


async def read_content_page(
    context: GalleryContext, args: ContentArgs, item_tags: bool
) -> ContentPage:
    def fetch(conn: AsyncConnection, query: ContentQuery) -> Awaitable[Page]:
        return fetch_page(
            conn, query.content_filter, query.sort, query.page, query.stats, item_tags=item_tags
        )

    query, page = await _read(context, args, fetch, held=False)
    for key, item in page.items.items():  # primed for `node` lookups, if whole
        if item.tags is not None:
            context.loaders.items.prime(key, item)
    tokens = _sealed(query, page.positions, context.settings.signing_secret(), context.viewer_id)
    edges = [
        (token, page.items[position.item])
        for token, position in zip(tokens, page.positions, strict=True)
    ]
    return ContentPage(query, page, edges)


async def read_content_rows(
    context: GalleryContext, args: ContentArgs, columns: frozenset[str]
) -> ContentRows:
    """`read_content_page`'s page as its rows, carrying the items' `columns` (and what
    the page needs: `fetch_page_rows`), read on a held connection (db/reads.py: its
    statements go to the driver). Nothing is primed: the compiled path reads a single
    root field."""

    def fetch(conn: AsyncConnection, query: ContentQuery) -> Awaitable[PageRows]:
        return fetch_page_rows(
            conn, query.content_filter, query.sort, query.page, query.stats, columns
        )

    query, page = await _read(context, args, fetch, held=True)
    return ContentRows(query, page, context.settings.signing_secret(), context.viewer_id)


async def _read(
    context: GalleryContext,
    args: ContentArgs,
    fetch: Callable[[AsyncConnection, ContentQuery], Awaitable[P]],
    *,
    held: bool,
) -> tuple[ContentQuery, P]:
    async def read(conn: AsyncConnection) -> tuple[ContentQuery, P]:
        query = await build_content_query(conn, args, context)
        return query, await fetch(conn, query)

    query, page = await run_read(context.reads, on_held_connection(read) if held else read)
    count_strategy(page.strategy)
    return query, page


def _sealed(
    query: ContentQuery, positions: Sequence[Position], secret: str, viewer: UUID | None
) -> list[CursorToken]:
    tokens = encode_cursors(query.digest, query.sort, positions, secret, viewer=viewer)
    return cast(list[CursorToken], tokens)  # a NewType of str: the tokens as they are


async def count_page_matches(
    context: GalleryContext, content_filter: ContentFilter, stats: TagStats
) -> Count:
    """`totalCount`: the page's filter counted up to the cap (one more statement)."""
    return await run_read(
        context.reads,
        lambda conn: count_matches(conn, content_filter, stats, context.settings.count_cap),
    )
