"""A live event rendered once for every subscriber that would render it alike.

The hub hands every subscription of one filter the same `Delivery`. Each subscriber's
server then built the event's object and ran graphql-core's execution of its selection on
it (fields collected, resolvers run, the result completed): with 1,000 subscribers of one
filter that execution was half of the server's CPU per delivery, and the event's object
another tenth (py-spy, 2026-12-05). Subscribers with the same parsed operation (the parser
cache gives one document per text), the same variables and the same viewer get the same
answer for the same delivery, so the first one's result is kept on the delivery
(`Delivery.renders`) and the others send it. A result with errors is never kept: each
subscriber then runs its own, as it did before.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import ExecutionResult, OperationDefinitionNode
from graphql.pyutils import AwaitableOrValue

from gallery_gql.api.global_id import item_global_id
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.live import ContentItemEvent, ContentItemEventKind
from gallery_gql.gallery.live.subscription import Delivery

_EVENT = "event"


def shared_event(delivery: Delivery) -> ContentItemEvent:
    """The delivery's event object, built once for all its subscribers."""
    event: ContentItemEvent | None = delivery.renders.get(_EVENT)
    if event is None:
        event = delivery.renders[_EVENT] = ContentItemEvent(
            kind=ContentItemEventKind.from_domain(delivery.kind),
            item_id=strawberry.ID(item_global_id(delivery.key)),
            item=ContentItem(record=delivery.item) if delivery.item else None,
            renders=delivery.renders,
        )
    return event


@dataclass(frozen=True, slots=True)
class _Kept:
    operation: OperationDefinitionNode
    """Kept so that the id in the key cannot name another operation meanwhile."""
    result: ExecutionResult | None
    pending: asyncio.Future[ExecutionResult | None] | None
    """While the first subscriber's execution awaits (a loader's read): its result, or
    None when it had errors or was cancelled."""


def render_key(
    operation: OperationDefinitionNode, variables: dict[str, Any], viewer: object
) -> tuple[int, bytes, object] | None:
    """What a subscriber's answer depends on besides the delivery; None when its
    variables have no canonical spelling (nothing is shared then)."""
    try:
        spelled = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return id(operation), spelled, viewer


def rendered_once(
    renders: dict[Any, Any],
    key: tuple[int, bytes, object] | None,
    operation: OperationDefinitionNode,
    execute: Callable[[], AwaitableOrValue[ExecutionResult]],
) -> AwaitableOrValue[ExecutionResult]:
    """The subscriber's result for the delivery whose `renders` these are: the one kept
    under `key` when there is one, else `execute()`'s, kept when it has no errors."""
    if key is None:
        return execute()
    kept: _Kept | None = renders.get(key)
    if kept is None:
        return _lead(renders, key, operation, execute())
    if kept.operation is not operation:
        return execute()
    if kept.result is not None:
        return kept.result
    assert kept.pending is not None
    return _follow(kept.pending, execute)


def _lead(
    renders: dict[Any, Any],
    key: object,
    operation: OperationDefinitionNode,
    result: AwaitableOrValue[ExecutionResult],
) -> AwaitableOrValue[ExecutionResult]:
    if not inspect.isawaitable(result):
        if not result.errors:
            renders[key] = _Kept(operation, result, None)
        return result
    pending: asyncio.Future[ExecutionResult | None] = asyncio.get_running_loop().create_future()
    renders[key] = _Kept(operation, None, pending)
    return _led(renders, key, operation, result, pending)


async def _led(
    renders: dict[Any, Any],
    key: object,
    operation: OperationDefinitionNode,
    result: Awaitable[ExecutionResult],
    pending: asyncio.Future[ExecutionResult | None],
) -> ExecutionResult:
    done: ExecutionResult | None = None
    try:
        done = await result
        return done
    finally:
        shared = done if done is not None and not done.errors else None
        if shared is None:
            del renders[key]
        else:
            renders[key] = _Kept(operation, shared, None)
        pending.set_result(shared)


async def _follow(
    pending: asyncio.Future[ExecutionResult | None],
    execute: Callable[[], AwaitableOrValue[ExecutionResult]],
) -> ExecutionResult:
    shared = await asyncio.shield(pending)
    if shared is not None:
        return shared
    result = execute()
    return await result if inspect.isawaitable(result) else result
