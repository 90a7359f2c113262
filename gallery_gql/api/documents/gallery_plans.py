"""The gallery's compiled selections: `contentItems` (the grid: edges, cursors, page info,
the capped count) and `contentItem` (the item view), with items' scalar fields,
`thumbnail(resolution:)`, `creator` and `tags`. Each root field reads through the code
its resolver uses (`read_content_rows`: the page statement of `read_content_page`; the
items loader), so the rows are the same; items are rendered from their columns
(item_rows.py), not through `ContentItem`, and the answers are proven equal by
tests/api/test_compiled_documents.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gallery_gql.api.content_query import ContentArgs
from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.edges import edges_plan
from gallery_gql.api.documents.item_rows import (
    CREATOR_COLUMNS,
    READ_COLUMNS,
    READERS,
    TAG_COLUMNS,
    THUMBNAIL_COLUMNS,
    Columns,
    item_columns,
    item_key,
    tag_ids,
    thumbnail_reader,
)
from gallery_gql.api.documents.plans import (
    BoundVariables,
    Compiler,
    Fallback,
    Getter,
    ObjectPlan,
    Selection,
    Unsupported,
    completed,
    selection_sets,
)
from gallery_gql.api.documents.tag_lists import TagNamesPlan, tag_names_plan
from gallery_gql.api.global_id import decode_global_id, decode_item_key
from gallery_gql.api.queries.content_page import count_page_matches, read_content_rows
from gallery_gql.api.types.connection import PageInfo, TotalCount
from gallery_gql.api.types.inputs import CreatorFilter
from gallery_gql.api.types.scalars import CursorToken
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User

ItemField = tuple[str, str, Any]
"""(response key, kind, what it needs): kinds `leaf` (a getter of the columns),
`thumbnail` (the selection), `creator` and `tags` (an ObjectPlan), `tag_names` (a
TagNamesPlan: tags whose fields need only their ids and names)."""

PageLoad = Callable[[list[Columns]], Awaitable[list[Any]]]
"""A field's values for a page's items, in order."""


@dataclass(frozen=True)
class ItemPlan:
    """Items rendered from their columns (api/documents/item_rows.py): a page's rows as
    the driver returned them, or the item view's record as columns."""

    fields: tuple[ItemField, ...]
    media_url_prefix: str | None
    columns: frozenset[str]
    """The columns the fields read: all a page statement need read for them."""

    async def render(
        self, items: list[Columns], context: GalleryContext, variables: BoundVariables
    ) -> list[dict[str, Any]]:
        getters: list[tuple[str, Getter | None]] = []
        later: list[tuple[str, PageLoad]] = []
        for key, kind, need in self.fields:
            if kind == "leaf":
                getters.append((key, need))
            elif kind == "thumbnail":
                getters.append((key, self._thumbnail(need, variables)))
            else:
                getters.append((key, None))
                later.append((key, _page_load(kind, need, context)))
        out = [{key: get(item) if get else None for key, get in getters} for item in items]
        for key, load in later:  # each field's loads batched over the items, as loaders do
            values = await load(items)
            for rendered, value in zip(out, values, strict=True):
                rendered[key] = value
        return out

    def _thumbnail(self, selection: Selection, variables: BoundVariables) -> Getter:
        resolution = variables.arguments(selection).get("resolution")
        read = thumbnail_reader(self.media_url_prefix, resolution)
        return completed(read, selection.field.type)  # type: ignore[union-attr]


def _page_load(kind: str, need: Any, context: GalleryContext) -> PageLoad:
    if kind == "tag_names":
        plan: TagNamesPlan = need

        async def tag_names(items: list[Columns]) -> list[Any]:
            arrays = [ids for ids in map(tag_ids, items) if ids is not None]
            if len(arrays) < len(items):  # some read without their tags: all, as loaders do
                arrays = await asyncio.gather(*(_tag_ids(item, context) for item in items))
            return await plan.render(arrays, context)

        return tag_names
    load = _loader(kind, need, context)

    async def each(items: list[Columns]) -> list[Any]:
        return await asyncio.gather(*(load(item) for item in items))

    return each


async def _tag_ids(item: Columns, context: GalleryContext) -> tuple[Any, ...]:
    """The item's tag array: from its columns, or (not read with them) its whole row."""
    ids = tag_ids(item)
    if ids is None:
        whole = await context.loaders.items.load(item_key(item))
        ids = whole.tags if whole is not None and whole.tags is not None else ()
    return ids


def _loader(
    kind: str, plan: ObjectPlan, context: GalleryContext
) -> Callable[[Columns], Awaitable[Any]]:
    loaders = context.loaders
    # A page's items share most of their tags (and creators): each is rendered once, and
    # its dict written wherever it appears (a page of 25 with `tags { name }` carries
    # ~1,900 tags, of ~130 distinct ones at full scale).
    rendered: dict[object, dict[str, Any]] = {}

    def render(record: Any, wrap: Callable[[Any], Any]) -> dict[str, Any]:
        out = rendered.get(record.id)
        if out is None:
            out = rendered[record.id] = plan.render(wrap(record))
        return out

    async def creator(item: Columns) -> dict[str, Any]:
        user = await loaders.users.load(item["creator_id"])
        if user is None:
            raise Fallback("creator missing")
        return render(user, lambda record: User(record=record))

    async def tags(item: Columns) -> list[dict[str, Any]]:
        records = await loaders.tag_sets.load(await _tag_ids(item, context))
        return [render(record, lambda record: Tag(record=record)) for record in records or []]

    return creator if kind == "creator" else tags


def item_plan(
    compiler: Compiler, selections: list[Selection], media_url_prefix: str | None
) -> ItemPlan:
    parent = compiler.object_type("ContentItem")
    fields: list[ItemField] = []
    columns: set[str] = set()
    for selection in selections:
        if selection.name == "thumbnail":
            fields.append((selection.key, "thumbnail", selection))
            columns |= THUMBNAIL_COLUMNS
        elif selection.name == "tags" and (names := tag_names_plan(compiler, selection)):
            fields.append((selection.key, "tag_names", names))
            columns |= TAG_COLUMNS
        elif selection.name in ("creator", "tags"):
            type_name = "User" if selection.name == "creator" else "Tag"
            plan = compiler.object_below(type_name, selection)
            fields.append((selection.key, selection.name, plan))
            columns |= CREATOR_COLUMNS if selection.name == "creator" else TAG_COLUMNS
        elif selection.field is None:
            fields.append((selection.key, "leaf", compiler.leaf(parent, selection)))
        else:
            read = READERS.get(selection.name)
            if read is None or selection.field.args:
                raise Unsupported(f"ContentItem.{selection.name} from columns")
            fields.append((selection.key, "leaf", completed(read, selection.field.type)))
            columns |= READ_COLUMNS[selection.name]
    return ItemPlan(tuple(fields), media_url_prefix, frozenset(columns))


# -- contentItems -------------------------------------------------------------------------
ARGUMENTS = {
    "tags": "tags",
    "tagNames": "tag_names",
    "match": "match",
    "excludeTags": "exclude_tags",
    "excludeTagNames": "exclude_tag_names",
    "creator": "creator",
    "sources": "sources",
    "collections": "collections",
    "search": "search",
    "sort": "sort",
    "first": "first",
    "cursor": "cursor",
    "after": "after",
    "last": "last",
    "before": "before",
}


def content_args(values: dict[str, Any]) -> ContentArgs:
    """graphql-core's coerced arguments as the resolver receives them from strawberry."""
    args = {ARGUMENTS[name]: value for name, value in values.items()}
    creator = args.get("creator")
    if creator is not None:
        args["creator"] = CreatorFilter(scope=creator["scope"], user_id=creator.get("userId"))
    return ContentArgs(**args)


@dataclass(frozen=True)
class ConnectionPlan:
    selection: Selection
    entries: tuple[tuple[str, str, Any], ...]
    """(key, kind, plan): `typename`, `edges` (edge entries), `pageInfo`, `totalCount`."""
    columns: frozenset[str]
    """The items' columns its edges' nodes read."""
    edge_cursors: bool
    """Whether its edges show their cursors: if not, only `pageInfo`'s two are sealed (the
    gallery page's grid asks for no other, and a seal is ~10% of a page's CPU)."""

    async def run(self, context: GalleryContext, variables: BoundVariables) -> dict[str, Any]:
        args = content_args(variables.arguments(self.selection))
        read = await read_content_rows(context, args, self.columns)
        cursors = read.cursors() if self.edge_cursors else []
        ends: tuple[CursorToken | None, CursorToken | None] | None = None
        out: dict[str, Any] = {}
        for key, kind, plan in self.entries:
            if kind == "typename":
                out[key] = "ContentItemConnection"
            elif kind == "edges":
                out[key] = await plan.render(cursors, read.page.rows, context, variables)
            elif kind == "pageInfo":
                if ends is None:
                    ends = (cursors[0], cursors[-1]) if cursors else read.end_cursors()
                out[key] = plan.render(
                    PageInfo(
                        has_next_page=read.page.has_next,
                        has_previous_page=read.page.has_previous,
                        start_cursor=ends[0],
                        end_cursor=ends[1],
                    )
                )
            else:
                found = await count_page_matches(
                    context, read.query.content_filter, read.query.stats
                )
                out[key] = plan.render(TotalCount(count=found.count, is_exact=found.is_exact))
        return out


def connection_plan(
    compiler: Compiler, selection: Selection, media_url_prefix: str | None
) -> ConnectionPlan:
    connection = compiler.object_type("ContentItemConnection")
    entries: list[tuple[str, str, Any]] = []
    columns: frozenset[str] = frozenset()
    edge_cursors = False
    for sub in compiler.collect(connection, selection_sets(selection)):
        if sub.field is None:
            entries.append((sub.key, "typename", None))
        elif sub.name == "edges":
            edges = edges_plan(
                compiler,
                sub,
                "ContentItemEdge",
                "ContentItem",
                lambda fields: item_plan(compiler, fields, media_url_prefix),
            )
            for plan in edges.node_plans:
                assert isinstance(plan, ItemPlan)
                columns |= plan.columns
            edge_cursors = edge_cursors or edges.shows_cursors
            entries.append((sub.key, "edges", edges))
        elif sub.name in ("pageInfo", "totalCount"):
            type_name = "PageInfo" if sub.name == "pageInfo" else "TotalCount"
            entries.append((sub.key, sub.name, compiler.object_below(type_name, sub)))
        else:
            raise Unsupported(f"ContentItemConnection.{sub.name}")
    return ConnectionPlan(selection, tuple(entries), columns, edge_cursors)


# -- contentItem --------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemLookupPlan:
    selection: Selection
    item: ItemPlan

    async def run(
        self, context: GalleryContext, variables: BoundVariables
    ) -> dict[str, Any] | None:
        item_id = variables.arguments(self.selection)["id"]
        type_name, key = decode_global_id(item_id)
        if type_name != "ContentItem":
            raise Fallback("not a ContentItem id")  # the resolver's error, from the executor
        record = await context.loaders.items.load(decode_item_key(key))
        if record is None or not record.visible_to(context.viewer_id):
            if context.hidden_lookups is not None:
                # A miss is counted (and may be refused) by the resolver, once: the
                # general executor answers, from the loader's cached row.
                raise Fallback("a counted miss")
            return None
        (rendered,) = await self.item.render([item_columns(record)], context, variables)
        return rendered


def item_lookup_plan(
    compiler: Compiler, selection: Selection, media_url_prefix: str | None
) -> ItemLookupPlan:
    fields = compiler.collect(compiler.object_type("ContentItem"), selection_sets(selection))
    return ItemLookupPlan(selection, item_plan(compiler, fields, media_url_prefix))
