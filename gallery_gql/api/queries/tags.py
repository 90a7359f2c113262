"""Queries over tags: lookup, autocomplete search, and the roots of the hierarchy."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import bad_input
from gallery_gql.api.global_id import decode_uuid_id
from gallery_gql.api.paging import BOUNDS, forward_cursor
from gallery_gql.api.types.connection import PageInfo
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.api.types.tag import Tag
from gallery_gql.db.reads import run_read
from gallery_gql.gallery.query.tag_search import (
    MAX_SEARCH_LENGTH,
    TagCursorError,
    TagPosition,
    TagSearchPage,
    decode_tag_cursor,
    encode_tag_cursor,
    search_tags,
)
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_tree import fetch_roots, name_fault

DEFAULT_FIRST = 20


@strawberry.type(description="A tag on a page of search results, with its cursor.")
class TagEdge:
    cursor: CursorToken = strawberry.field(
        description="Opaque cursor: pass it as `after` (or `cursor`) to page on."
    )
    node: Tag = strawberry.field(description="The tag.")


@strawberry.type(description="A page of tags.")
class TagConnection:
    edges: list[TagEdge] = strawberry.field(description="The page's tags in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the result.")


def _validate_search(search: str | None) -> str | None:
    if search is None:
        return None
    if len(search) > MAX_SEARCH_LENGTH:
        raise bad_input(f"search is limited to {MAX_SEARCH_LENGTH} characters")
    if "\x00" in search:
        raise bad_input("search must not contain NUL characters")
    return search


def _decode_cursor(cursor: str | None) -> TagPosition | None:
    if cursor is None:
        return None
    try:
        return decode_tag_cursor(cursor)
    except TagCursorError as exc:
        raise bad_input("invalid cursor") from exc


def _connection(page: TagSearchPage, after: TagPosition | None) -> TagConnection:
    edges = [
        TagEdge(cursor=CursorToken(encode_tag_cursor(position)), node=Tag(record=record))
        for position, record in page.hits
    ]
    page_info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return TagConnection(edges=edges, page_info=page_info)


async def _tag_by_name(info: Ctx, name: str) -> TagRecord | None:
    if name_fault(name) is not None:
        return None
    return await info.context.loaders.tags.by_name.load(name)


@strawberry.type
class TagQueries:
    @strawberry.field(
        description="One tag by id or by exact (case-sensitive) name; give exactly one of "
        "the two. Null when no such tag exists."
    )
    async def tag(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Tag.id or Tag.databaseId (a UUID)."),
        ] = None,
        name: Annotated[
            str | None, strawberry.argument(description="The tag's exact name.")
        ] = None,
    ) -> Tag | None:
        if id is not None and name is None:
            record = await info.context.loaders.tags.by_id.load(decode_uuid_id(id, "Tag"))
        elif name is not None and id is None:
            record = await _tag_by_name(info, name)
        else:
            raise bad_input("give exactly one of `id` and `name`")
        return Tag(record=record) if record is not None else None

    @strawberry.field(
        description="Tag autocomplete: tags whose name contains `search` (case-insensitive; "
        "the text is matched literally, `%` and `_` included). Names starting with `search` "
        "come first, then the other matches, each group by name. Without `search`, every "
        "tag by name. Paged forward by keyset cursors."
    )
    async def tags(
        self,
        info: Ctx,
        search: Annotated[
            str | None,
            strawberry.argument(
                description=f"Text to look for, at most {MAX_SEARCH_LENGTH} "
                "characters; omit it to list every tag."
            ),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(description=f"Page size (null: {DEFAULT_FIRST}). {BOUNDS}"),
        ] = DEFAULT_FIRST,
        after: Annotated[
            CursorToken | None,
            strawberry.argument(
                description="Return the tags after this cursor (an edge's `cursor` or "
                "`pageInfo.endCursor` from the same search)."
            ),
        ] = None,
        cursor: Annotated[
            CursorToken | None, strawberry.argument(description="The same as `after`.")
        ] = None,
    ) -> TagConnection:
        search = _validate_search(search)
        after_position = _decode_cursor(forward_cursor(cursor, after))
        size = first if first is not None else DEFAULT_FIRST
        page = await run_read(
            info.context.reads, lambda conn: search_tags(conn, search, after_position, size)
        )
        return _connection(page, after_position)

    @strawberry.field(
        description="The top of the hierarchy: tags without parents, by name. Walk down "
        "with `children`."
    )
    async def tag_roots(self, info: Ctx) -> list[Tag]:
        records = await run_read(info.context.reads, fetch_roots)
        return [Tag(record=record) for record in records]
