"""Runs creates and retags, one or many, as one all-or-nothing transaction each call.

Single mutations are batches of one, so both share every check and error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import PublicError
from gallery_gql.api.mutations.common import (
    bad_id,
    fresh_items,
    mutation_errors,
    parse_item_id,
    readable_item,
    tag_values,
    viewer_actor,
    write,
)
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.mutation_payloads import (
    CreateContentInput,
    MutationError,
    RetagContentInput,
)
from gallery_gql.gallery.writes.batches import create_batch, retag_batch
from gallery_gql.gallery.writes.errors import BatchRejectedError, BatchTooLargeError
from gallery_gql.gallery.writes.inputs import CreateRequest, ItemWrite, NewItem, RetagRequest
from gallery_gql.gallery.writes.limits import MAX_BATCH


@dataclass
class ItemOutcome:
    index: int
    item: ContentItem | None = None
    version: int | None = None
    replayed: bool = False
    errors: list[MutationError] = field(default_factory=list)


@dataclass
class BatchOutcome:
    count: int = 0
    results: list[ItemOutcome] = field(default_factory=list)
    errors: list[MutationError] = field(default_factory=list)


def _new_item(value: CreateContentInput) -> NewItem:
    metadata: Any = {} if value.metadata is None else value.metadata
    return NewItem(
        source=value.source.to_domain(),
        title=value.title,
        content_type=value.content_type,
        content_data=value.content_data,
        prompt=value.prompt,
        path_thumb=value.path_thumb,
        path_thumbs_alt_res=value.path_thumbs_alt_res,  # type: ignore[arg-type]
        item_metadata=metadata,
        quality_score=value.quality_score,
        is_private=value.is_private,
    )


def _rejected(count: int, problems: dict[int, list[MutationError]]) -> BatchOutcome:
    return BatchOutcome(
        results=[ItemOutcome(index, errors=problems.get(index, [])) for index in range(count)]
    )


async def _written(info: Ctx, writes: Sequence[ItemWrite]) -> BatchOutcome:
    records = await fresh_items(info, [w.item for w in writes])
    results = [
        ItemOutcome(
            index,
            item=readable_item(info, record),
            version=w.version,
            replayed=w.replayed,
        )
        for index, (w, record) in enumerate(zip(writes, records, strict=True))
    ]
    return BatchOutcome(count=sum(not w.replayed for w in writes), results=results)


async def _write_batch(
    info: Ctx,
    count: int,
    aliases: dict[str, str],
    work: Callable[[AsyncConnection], Awaitable[list[ItemWrite]]],
) -> BatchOutcome:
    """Run the batch in one transaction; a rejection reports each item's problems."""
    try:
        writes = await write(info, work)
    except BatchRejectedError as exc:
        return _rejected(
            count,
            {
                index: [e for problem in found for e in mutation_errors(problem, aliases)]
                for index, found in exc.problems.items()
            },
        )
    return await _written(info, writes)


async def run_creates(info: Ctx, inputs: Sequence[CreateContentInput]) -> BatchOutcome:
    actor = viewer_actor(info)
    if isinstance(actor, MutationError):
        return BatchOutcome(errors=[actor])
    if len(inputs) > MAX_BATCH:
        return BatchOutcome(errors=mutation_errors(BatchTooLargeError(len(inputs))))
    aliases: dict[str, str] = {}
    requests = [
        CreateRequest(
            item=_new_item(value),
            tag_values=tag_values(value.tags, aliases) or (),
            idempotency_key=value.idempotency_key,
        )
        for value in inputs
    ]
    return await _write_batch(
        info, len(inputs), aliases, lambda conn: create_batch(conn, actor, requests)
    )


async def run_retags(info: Ctx, inputs: Sequence[RetagContentInput]) -> BatchOutcome:
    actor = viewer_actor(info)
    if isinstance(actor, MutationError):
        return BatchOutcome(errors=[actor])
    if len(inputs) > MAX_BATCH:
        return BatchOutcome(errors=mutation_errors(BatchTooLargeError(len(inputs))))
    aliases: dict[str, str] = {}
    requests: list[RetagRequest] = []
    unreadable: dict[int, list[MutationError]] = {}
    for index, value in enumerate(inputs):
        try:
            key = parse_item_id(value.id)
        except PublicError as exc:
            unreadable[index] = [bad_id(exc)]
            continue
        requests.append(
            RetagRequest(
                item=key,
                set=tag_values(value.set, aliases),
                add=tag_values(value.add, aliases),
                remove=tag_values(value.remove, aliases),
                expected_version=value.expected_version,
                idempotency_key=value.idempotency_key,
            )
        )
    if unreadable:  # reported before any other check; nothing is written
        return _rejected(len(inputs), unreadable)
    return await _write_batch(
        info, len(inputs), aliases, lambda conn: retag_batch(conn, actor, requests)
    )
