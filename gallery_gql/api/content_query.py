"""Turns `contentItems` arguments into domain values, checking what the argument types
cannot: tags exist, arguments agree, cursors are genuine and from this very query. Page
sizes (api/paging.py) and the shape of cursors (their scalar) were checked before execution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.errors import bad_input, unauthenticated
from gallery_gql.api.global_id import decode_uuid_id
from gallery_gql.api.paging import forward_cursor
from gallery_gql.api.types.enums import (
    ContentCollection,
    ContentSort,
    ContentSource,
    CreatorScope,
    TagMatchMode,
)
from gallery_gql.api.types.inputs import CreatorFilter
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.cursor import CursorError, check_cursor, decode_cursor
from gallery_gql.gallery.query.filters import (
    Collection,
    ContentFilter,
    PageRequest,
    Position,
    SearchTooLongError,
    Sort,
    check_search,
)
from gallery_gql.gallery.query.tag_stats import TagStats
from gallery_gql.gallery.tag_tree import name_fault


@dataclass(frozen=True, kw_only=True)
class ContentArgs:
    tags: Sequence[str] | None
    tag_names: Sequence[str] | None
    match: TagMatchMode
    exclude_tags: Sequence[str] | None
    exclude_tag_names: Sequence[str] | None
    creator: CreatorFilter | None
    sources: Sequence[ContentSource] | None
    collections: Sequence[ContentCollection] | None
    search: str | None
    # Order and paging (`contentItems` only; a live subscription has neither).
    sort: ContentSort = ContentSort.NEWEST
    first: int | None = None
    cursor: str | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class ContentQuery:
    content_filter: ContentFilter
    sort: Sort
    page: PageRequest
    stats: TagStats
    digest: str
    """The filter and sort's fingerprint (`ContentFilter.digest`): the page's cursors
    are bound to it."""


def _bounded(values: Sequence[str] | None, argument: str, limit: int) -> list[str]:
    values = list(values or [])
    if len(values) > limit:
        raise bad_input(f"`{argument}` takes at most {limit} tags, got {len(values)}")
    return values


def _tag_names(values: Sequence[str] | None, argument: str, limit: int) -> list[str]:
    """Names that could be a tag's (others are refused before any SQL)."""
    names = _bounded(values, argument, limit)
    for name in names:
        if (fault := name_fault(name)) is not None:
            raise bad_input(f"`{argument}`: {fault}")
    return names


def _tag_ids(values: Sequence[str] | None, argument: str, limit: int) -> list[UUID]:
    return [decode_uuid_id(value, "Tag") for value in _bounded(values, argument, limit)]


def _collections(args: ContentArgs, creator_scoped: bool) -> frozenset[Collection] | None:
    if args.collections is None:
        return None
    if creator_scoped:
        raise bad_input(
            "`collections` already says whose items to show: give it without a "
            "`creator.scope` other than ANYONE"
        )
    return frozenset(collection.to_domain() for collection in args.collections)


def _creator(creator: CreatorFilter | None, viewer: UUID | None) -> tuple[UUID | None, UUID | None]:
    """(keep only this creator, drop this creator)."""
    if creator is None:
        return None, None
    if creator.user_id is not None:
        if creator.scope is not CreatorScope.ANYONE:
            raise bad_input("give `creator.scope` or `creator.userId`, not both")
        return decode_uuid_id(creator.user_id, "User"), None
    if creator.scope is CreatorScope.ANYONE:
        return None, None
    if viewer is None:
        raise unauthenticated(
            f"`creator: {{scope: {creator.scope.value}}}` needs a signed-in viewer"
        )
    if creator.scope is CreatorScope.ME:
        return viewer, None
    return None, viewer


def _page_request(
    args: ContentArgs, context: GalleryContext, digest: str, sort: Sort
) -> PageRequest:
    settings = context.settings
    secret = settings.signing_secret()

    def position(token: str | None, argument: str) -> Position | None:
        if token is None:
            return None
        try:
            cursor = decode_cursor(token, secret, viewer=context.viewer_id)
            return check_cursor(cursor, digest, sort)
        except CursorError as exc:
            raise bad_input(f"invalid `{argument}`: {exc}") from exc

    after_token = forward_cursor(args.cursor, args.after)
    if args.last is not None:
        if after_token is not None:
            raise bad_input("`last` pages backward from `before`; `cursor`/`after` do not apply")
        return PageRequest(size=args.last, backward=True, before=position(args.before, "before"))
    if args.before is not None:
        raise bad_input("`before` pages backward: give it with `last`")
    size = args.first if args.first is not None else settings.default_page_size
    return PageRequest(size=size, after=position(after_token, "cursor"))


async def build_content_query(
    conn: AsyncConnection, args: ContentArgs, context: GalleryContext
) -> ContentQuery:
    """Validate and resolve the arguments (one statement when tags are given)."""
    content_filter, stats = await build_content_filter(conn, args, context)
    sort = args.sort.to_domain()
    digest = content_filter.digest(sort)
    page = _page_request(args, context, digest, sort)
    return ContentQuery(content_filter, sort, page, stats, digest)


async def build_content_filter(
    conn: AsyncConnection, args: ContentArgs, context: GalleryContext
) -> tuple[ContentFilter, TagStats]:
    """The filter arguments (not sort or paging) validated and resolved, with the
    filter tags' counts."""
    try:
        search = check_search(args.search)
    except SearchTooLongError as exc:
        raise bad_input(str(exc)) from exc
    limit = context.settings.max_filter_tags
    wanted = _tag_ids(args.tags, "tags", limit)
    excluded = _tag_ids(args.exclude_tags, "excludeTags", limit)
    wanted_names = _tag_names(args.tag_names, "tagNames", limit)
    excluded_names = _tag_names(args.exclude_tag_names, "excludeTagNames", limit)
    creator_id, exclude_creator_id = _creator(args.creator, context.viewer_id)
    scoped = args.creator is not None and args.creator.scope is not CreatorScope.ANYONE
    collections = _collections(args, scoped)
    names = [*wanted_names, *excluded_names]
    found = await context.tag_directory.resolve(conn, [*wanted, *excluded], names)
    resolved = found.by_id
    unknown = sorted({str(tag) for tag in [*wanted, *excluded] if tag not in resolved})
    if unknown:
        raise bad_input(f"unknown tags: {', '.join(unknown)}", unknownTags=unknown)
    by_name = found.by_name
    unknown_names = list(dict.fromkeys(name for name in names if name not in by_name))
    if unknown_names:
        shown = ", ".join(repr(name) for name in unknown_names)
        raise bad_input(f"unknown tag names: {shown}", unknownTagNames=unknown_names)
    wanted += [by_name[name].id for name in wanted_names]
    excluded += [by_name[name].id for name in excluded_names]
    sources = (
        tuple(source.to_domain() for source in args.sources)
        if args.sources is not None
        else (Source.REGULAR, Source.AUTO)
    )
    if args.sources is not None and not sources:
        raise bad_input("`sources` must name at least one source")
    content_filter = ContentFilter(
        tag_keys=tuple(resolved[tag].tag_key for tag in wanted),
        match=args.match.to_domain(),
        exclude_tag_keys=tuple(resolved[tag].tag_key for tag in excluded),
        sources=sources,
        creator_id=creator_id,
        exclude_creator_id=exclude_creator_id,
        search=search,
        collections=collections,
        viewer_id=context.viewer_id,
    )
    return content_filter, found.stats
