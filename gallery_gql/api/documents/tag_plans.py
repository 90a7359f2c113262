"""The compiled tag list: `tags(search:, first:, after:)` (the gallery's and GraphiQL's
autocomplete), its edges' cursors and tags' plain fields and `itemCount(sources:)`. The
page is read by the resolver's own `tag_page`, counts by `public_item_count`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.edges import edges_plan
from gallery_gql.api.documents.plans import (
    BoundVariables,
    Compiler,
    Selection,
    Unsupported,
    completed,
    selection_sets,
)
from gallery_gql.api.queries.tags import tag_page
from gallery_gql.api.types.tag import Tag, public_item_count


@dataclass(frozen=True)
class TagNodePlan:
    fields: tuple[tuple[str, str, Any], ...]
    """(key, `leaf` with its getter | `itemCount` with its selection)."""

    async def render(
        self, tags: list[Tag], context: GalleryContext, variables: BoundVariables
    ) -> list[dict[str, Any]]:
        out = [
            {key: need(tag) if kind == "leaf" else None for key, kind, need in self.fields}
            for tag in tags
        ]
        for key, kind, selection in self.fields:
            if kind != "itemCount":
                continue
            sources = variables.arguments(selection).get("sources")
            complete = completed(lambda count: count, selection.field.type)
            counts = await asyncio.gather(
                *(public_item_count(context, tag.record, sources) for tag in tags)
            )
            for rendered, count in zip(out, counts, strict=True):
                rendered[key] = complete(count)
        return out


def _node_plan(compiler: Compiler, selections: list[Selection]) -> TagNodePlan:
    parent = compiler.object_type("Tag")
    fields: list[tuple[str, str, Any]] = []
    for selection in selections:
        if selection.name == "itemCount":
            fields.append((selection.key, "itemCount", selection))
        else:
            fields.append((selection.key, "leaf", compiler.leaf(parent, selection)))
    return TagNodePlan(tuple(fields))


@dataclass(frozen=True)
class TagListPlan:
    selection: Selection
    entries: tuple[tuple[str, str, Any], ...]
    """(key, kind, plan): `typename`, `edges` (edge entries), `pageInfo`."""

    async def run(self, context: GalleryContext, variables: BoundVariables) -> dict[str, Any]:
        args = variables.arguments(self.selection)
        connection = await tag_page(
            context, args.get("search"), args.get("first"), args.get("after"), args.get("cursor")
        )
        out: dict[str, Any] = {}
        for key, kind, plan in self.entries:
            if kind == "typename":
                out[key] = "TagConnection"
            elif kind == "edges":
                cursors = [edge.cursor for edge in connection.edges]
                tags = [edge.node for edge in connection.edges]
                out[key] = await plan.render(cursors, tags, context, variables)
            else:
                out[key] = plan.render(connection.page_info)
        return out


def tag_list_plan(compiler: Compiler, selection: Selection) -> TagListPlan:
    entries: list[tuple[str, str, Any]] = []
    for sub in compiler.collect(compiler.object_type("TagConnection"), selection_sets(selection)):
        if sub.field is None:
            entries.append((sub.key, "typename", None))
        elif sub.name == "edges":
            edges = edges_plan(
                compiler, sub, "TagEdge", "Tag", lambda fields: _node_plan(compiler, fields)
            )
            entries.append((sub.key, "edges", edges))
        elif sub.name == "pageInfo":
            entries.append((sub.key, "pageInfo", compiler.object_below("PageInfo", sub)))
        else:
            raise Unsupported(f"TagConnection.{sub.name}")
    return TagListPlan(selection, tuple(entries))
