"""createContent, updateContent, deleteContent."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import PublicError
from gallery_gql.api.global_id import item_global_id
from gallery_gql.api.mutations.batch import run_creates
from gallery_gql.api.mutations.common import (
    bad_id,
    fresh_items,
    mutation_errors,
    parse_item_id,
    readable_item,
    viewer_actor,
    write,
)
from gallery_gql.api.types.mutation_payloads import (
    CreateContentInput,
    CreateContentPayload,
    DeleteContentInput,
    DeleteContentPayload,
    MutationError,
    UpdateContentInput,
    UpdateContentPayload,
)
from gallery_gql.gallery.writes.errors import WriteError
from gallery_gql.gallery.writes.inputs import UNSET, ItemChanges
from gallery_gql.gallery.writes.items import delete_items, update_item


def _changes(value: UpdateContentInput) -> ItemChanges:
    def given(field: Any) -> Any:
        return UNSET if field is strawberry.UNSET else field

    return ItemChanges(
        title=given(value.title),
        content_type=given(value.content_type),
        content_data=given(value.content_data),
        path_thumb=given(value.path_thumb),
        path_thumbs_alt_res=given(value.path_thumbs_alt_res),
        item_metadata=given(value.metadata),
        quality_score=given(value.quality_score),
        is_private=given(value.is_private),
    )


@strawberry.type
class ContentMutations:
    @strawberry.mutation(
        description="Create a content item owned by the viewer, with its tags, in one "
        "transaction. Expected failures (invalid fields, unknown tags, more than 200 tags, "
        "a reused idempotency key) come back in `errors` and nothing is written."
    )
    async def create_content(
        self,
        info: Ctx,
        input: Annotated[
            CreateContentInput, strawberry.argument(description="The item to create.")
        ],
    ) -> CreateContentPayload:
        outcome = await run_creates(info, [input])
        if outcome.errors:
            return CreateContentPayload(errors=outcome.errors)
        result = outcome.results[0]
        return CreateContentPayload(
            item=result.item, replayed=result.replayed, errors=result.errors
        )

    @strawberry.mutation(
        description="Change an item's fields (not its prompt, not its tags). Only the "
        "item's creator or an admin may; version + 1."
    )
    async def update_content(
        self,
        info: Ctx,
        input: Annotated[UpdateContentInput, strawberry.argument(description="The changes.")],
    ) -> UpdateContentPayload:
        actor = viewer_actor(info)
        if isinstance(actor, MutationError):
            return UpdateContentPayload(errors=[actor])
        try:
            key = parse_item_id(input.id)
        except PublicError as exc:
            return UpdateContentPayload(errors=[bad_id(exc)])
        changes = _changes(input)
        try:
            await write(
                info,
                lambda conn: update_item(conn, key, changes, input.expected_version, actor=actor),
            )
        except WriteError as exc:
            return UpdateContentPayload(errors=mutation_errors(exc))
        record = (await fresh_items(info, [key]))[0]
        return UpdateContentPayload(item=readable_item(info, record))

    @strawberry.mutation(
        description="Delete an item with its tags. Only the item's creator or an admin may."
    )
    async def delete_content(
        self,
        info: Ctx,
        input: Annotated[
            DeleteContentInput, strawberry.argument(description="The item to delete.")
        ],
    ) -> DeleteContentPayload:
        actor = viewer_actor(info)
        if isinstance(actor, MutationError):
            return DeleteContentPayload(errors=[actor])
        try:
            key = parse_item_id(input.id)
        except PublicError as exc:
            return DeleteContentPayload(errors=[bad_id(exc)])
        try:
            await write(
                info,
                lambda conn: delete_items(
                    conn, [key], actor=actor, expected_versions={key: input.expected_version}
                ),
            )
        except WriteError as exc:
            return DeleteContentPayload(errors=mutation_errors(exc))
        await fresh_items(info, [key])
        return DeleteContentPayload(deleted_id=strawberry.ID(item_global_id(key)))
