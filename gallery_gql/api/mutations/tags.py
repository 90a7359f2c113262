"""Tag administration (admins only): createTag, addTagParent, removeTagParent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.context import Ctx
from gallery_gql.api.mutations.common import (
    admin_actor,
    forget_tags,
    mutation_errors,
    tag_values,
    write,
)
from gallery_gql.api.types.mutation_payloads import (
    CreateTagInput,
    CreateTagPayload,
    MutationError,
    TagParentInput,
    TagParentPayload,
)
from gallery_gql.api.types.tag import Tag
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_changes import announce_tag_change
from gallery_gql.gallery.writes.errors import WriteError
from gallery_gql.gallery.writes.tag_admin import add_tag_parent, create_tag, remove_tag_parent

EdgeEdit = Callable[[AsyncConnection, str, str], Awaitable[tuple[TagRecord, TagRecord]]]


def _edge(input: TagParentInput) -> tuple[str, str, dict[str, str]]:
    aliases: dict[str, str] = {}
    tag, parent = tag_values([input.tag, input.parent], aliases) or ("", "")
    return tag, parent, aliases


def _unknown_field(input: TagParentInput, errors: list[MutationError]) -> list[MutationError]:
    """Unknown-tag errors name `tag` or `parent`, whichever was unknown."""
    for error in errors:
        if error.values and error.field == "tags":
            error.field = "tag" if input.tag in error.values else "parent"
    return errors


@strawberry.type
class TagMutations:
    @strawberry.mutation(
        description="Create a tag, optionally under existing parents. Admins only. A name "
        "already taken is a CONFLICT."
    )
    async def create_tag(
        self,
        info: Ctx,
        input: Annotated[CreateTagInput, strawberry.argument(description="The new tag.")],
    ) -> CreateTagPayload:
        actor = admin_actor(info)
        if isinstance(actor, MutationError):
            return CreateTagPayload(errors=[actor])
        aliases: dict[str, str] = {}
        parents = tag_values(input.parents, aliases) or ()
        try:

            async def create(conn: AsyncConnection) -> TagRecord:
                record = await create_tag(conn, input.name, parents)
                await announce_tag_change(conn, [record.id])
                return record

            record = await write(info, create)
        except WriteError as exc:
            return CreateTagPayload(errors=mutation_errors(exc, aliases, tag_field="parents"))
        forget_tags(info)
        return CreateTagPayload(tag=Tag(record=record))

    @strawberry.mutation(
        description="Put `tag` under `parent` (a tag may have several parents). Admins "
        "only. An edge that would close a cycle is a CONFLICT; an existing edge is kept."
    )
    async def add_tag_parent(
        self,
        info: Ctx,
        input: Annotated[TagParentInput, strawberry.argument(description="The edge to add.")],
    ) -> TagParentPayload:
        return await _edit_edge(info, input, add_tag_parent)

    @strawberry.mutation(
        description="Take `tag` out from under `parent`. Admins only. NOT_FOUND when "
        "`parent` is not a direct parent of `tag`."
    )
    async def remove_tag_parent(
        self,
        info: Ctx,
        input: Annotated[TagParentInput, strawberry.argument(description="The edge to remove.")],
    ) -> TagParentPayload:
        return await _edit_edge(info, input, remove_tag_parent)


async def _edit_edge(info: Ctx, input: TagParentInput, edit: EdgeEdit) -> TagParentPayload:
    """Add or remove one parent edge, as an admin, mapping failures to payload errors."""
    actor = admin_actor(info)
    if isinstance(actor, MutationError):
        return TagParentPayload(errors=[actor])
    tag, parent, aliases = _edge(input)
    try:

        async def change(conn: AsyncConnection) -> tuple[TagRecord, TagRecord]:
            child, above = await edit(conn, tag, parent)
            await announce_tag_change(conn, [child.id, above.id])
            return child, above

        child, above = await write(info, change)
    except WriteError as exc:
        return TagParentPayload(errors=_unknown_field(input, mutation_errors(exc, aliases)))
    forget_tags(info)
    return TagParentPayload(tag=Tag(record=child), parent=Tag(record=above))
