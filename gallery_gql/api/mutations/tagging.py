"""retagContent and the bulk mutations pipelines use (bulkRetagContent, bulkCreateContent)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gallery_gql.api.context import Ctx
from gallery_gql.api.mutations.batch import run_creates, run_retags
from gallery_gql.api.types.mutation_payloads import (
    BulkCreateContentInput,
    BulkCreateContentPayload,
    BulkCreateContentResult,
    BulkRetagContentInput,
    BulkRetagContentPayload,
    BulkRetagContentResult,
    RetagContentInput,
    RetagContentPayload,
)
from gallery_gql.gallery.writes.limits import MAX_BATCH

_ALL_OR_NOTHING = (
    "The whole call is one transaction, all or nothing: every item is checked and every "
    "problem reported in its result's `errors`; if any item has errors, nothing is "
    "written (`count` is 0, every `item` null) and the call can be fixed and sent again."
)


@strawberry.type
class TaggingMutations:
    @strawberry.mutation(
        description="Change an item's tags: `set` replaces them, `add`/`remove` edit them. "
        "Only the item's creator or an admin may. With `expectedVersion`, a concurrent "
        "change makes this fail with CONFLICT instead of being overwritten. Unknown tags "
        "fail the request (every one is named) and are never created."
    )
    async def retag_content(
        self,
        info: Ctx,
        input: Annotated[RetagContentInput, strawberry.argument(description="The change.")],
    ) -> RetagContentPayload:
        outcome = await run_retags(info, [input])
        if outcome.errors:
            return RetagContentPayload(errors=outcome.errors)
        result = outcome.results[0]
        return RetagContentPayload(
            item=result.item, version=result.version, replayed=result.replayed, errors=result.errors
        )

    @strawberry.mutation(
        description=f"Retag up to {MAX_BATCH} items in one call, each item at most once. "
        + _ALL_OR_NOTHING
        + " Items are locked in (source, id) order whatever the input order, so concurrent "
        "calls never deadlock each other. A malformed item id is reported before the other "
        "checks run."
    )
    async def bulk_retag_content(
        self,
        info: Ctx,
        input: Annotated[BulkRetagContentInput, strawberry.argument(description="The changes.")],
    ) -> BulkRetagContentPayload:
        outcome = await run_retags(info, input.items)
        return BulkRetagContentPayload(
            count=outcome.count,
            results=[
                BulkRetagContentResult(
                    index=r.index,
                    item=r.item,
                    version=r.version,
                    replayed=r.replayed,
                    errors=r.errors,
                )
                for r in outcome.results
            ],
            errors=outcome.errors,
        )

    @strawberry.mutation(
        description=f"Create up to {MAX_BATCH} items for the viewer in one call. " + _ALL_OR_NOTHING
    )
    async def bulk_create_content(
        self,
        info: Ctx,
        input: Annotated[BulkCreateContentInput, strawberry.argument(description="The items.")],
    ) -> BulkCreateContentPayload:
        outcome = await run_creates(info, input.items)
        return BulkCreateContentPayload(
            count=outcome.count,
            results=[
                BulkCreateContentResult(
                    index=r.index, item=r.item, replayed=r.replayed, errors=r.errors
                )
                for r in outcome.results
            ],
            errors=outcome.errors,
        )
