"""A live event rendered once for every subscriber that would render it alike.

Each subscriber's server built the event's object and ran graphql-core's execution of its
selection on it (fields collected, resolvers run, the result completed): with 1,000
subscribers of one filter that execution was half of the server's CPU per delivery, and
the event's object another tenth (py-spy, 2026-12-05). What a subscriber is sent depends
on the event (with its item, or without), its operation (the parser cache gives one
document per text), the values of the variables its selection reads, and its viewer;
not on its filter, which only decides which events come. So the hub gives every
delivery of one event in a batch, with its item or without, one `renders` mapping,
whatever the filter (`Delivery.renders`); the first subscriber's result is kept there
and the subscribers alike in all of the above send it. A result with errors is never
kept: each subscriber then runs its own, as it did before.

A delivery waits in the queue of its slowest subscriber, and what its faster ones made
of it would wait with it: 5.7 KB for `kind itemId item { id title }`, 27 KB with the
item's 77 tag ids, against the delivery's own 72 bytes (tracemalloc, 2026-12-05). So
only an event handed to more than one subscription keeps renders, and only the
`MAX_KEPT_DELIVERIES` latest of them in a worker do: past that the oldest are let go,
and a subscriber that comes to one later runs its own execution.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.pyutils import AwaitableOrValue

from gallery_gql.api.documents.lru import LRU
from gallery_gql.api.global_id import item_global_id
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.live import ContentItemEvent, ContentItemEventKind
from gallery_gql.gallery.live.subscription import Delivery

MAX_KEPT_DELIVERIES = 2_048
"""Deliveries whose renders a worker keeps at once (at 27 KB each, 55 MB); a delivery's
subscribers normally all take it within a batch or two."""

_EVENT = "event"
_kept: deque[dict[Any, Any]] = deque()
"""The renders kept, oldest first (per process: a worker is a process)."""


def shared_event(delivery: Delivery) -> ContentItemEvent:
    """The delivery's event object: built once for all its subscribers, and carrying
    their shared renders, when there is more than one of them."""
    if delivery.subscribers < 2:
        return _event(delivery, None)
    renders = delivery.renders
    event: ContentItemEvent | None = renders.get(_EVENT)
    if event is None:
        if not renders:
            _keep(renders)
        event = renders[_EVENT] = _event(delivery, renders)
    return event


def _event(delivery: Delivery, renders: dict[Any, Any] | None) -> ContentItemEvent:
    return ContentItemEvent(
        kind=ContentItemEventKind.from_domain(delivery.kind),
        item_id=strawberry.ID(item_global_id(delivery.key)),
        item=ContentItem(record=delivery.item) if delivery.item else None,
        renders=renders,
    )


def _keep(renders: dict[Any, Any]) -> None:
    _kept.append(renders)
    while len(_kept) > MAX_KEPT_DELIVERIES:
        _kept.popleft().clear()


@dataclass(frozen=True, slots=True)
class _Kept:
    operation: OperationDefinitionNode
    """Kept so that the id in the key cannot name another operation meanwhile."""
    result: ExecutionResult | None
    pending: asyncio.Future[ExecutionResult | None] | None
    """While the first subscriber's execution awaits (a loader's read): its result, or
    None when it had errors or was cancelled."""


def render_key(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    viewer: object,
) -> tuple[int, bytes, object] | None:
    """What a subscriber's answer depends on besides the event: its operation, the
    values of the variables its selection reads (not those of the filter's arguments:
    the filter decides which events come, never how one reads), and its viewer. None
    when those values have no canonical spelling (nothing is shared then)."""
    names = _selection_variables(operation, fragments)
    read = {name: variables[name] for name in names if name in variables}
    try:
        spelled = orjson.dumps(read, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return id(operation), spelled, viewer


_SELECTION_VARIABLES: LRU[int, tuple[OperationDefinitionNode, frozenset[str]]] = LRU(256)


def _selection_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> frozenset[str]:
    """The variables the operation reads anywhere but in its root field's arguments."""
    kept = _SELECTION_VARIABLES.get(id(operation))
    if kept is not None and kept[0] is operation:
        return kept[1]
    names: set[str] = set()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            parts: list[Node] = [*(selection.directives or ())]
            if selection.selection_set is not None:
                parts.append(selection.selection_set)
        else:
            parts = [selection]  # a fragment at the root: every variable counts
        for part in parts:
            _collect_variables(part, fragments, names, set())
    found = frozenset(names)
    _SELECTION_VARIABLES.put(id(operation), (operation, found))
    return found


def _collect_variables(
    node: Node, fragments: Mapping[str, FragmentDefinitionNode], names: set[str], seen: set[str]
) -> None:
    if isinstance(node, VariableNode):
        names.add(node.name.value)
        return
    if isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
        seen.add(node.name.value)
        fragment = fragments.get(node.name.value)
        if fragment is not None:
            _collect_variables(fragment, fragments, names, seen)
    for key in node.keys:
        value = getattr(node, key, None)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, Node):
                _collect_variables(child, fragments, names, seen)


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
    renders[key] = entry = _Kept(operation, None, pending)
    return _led(renders, key, entry, result)


async def _led(
    renders: dict[Any, Any], key: object, entry: _Kept, result: Awaitable[ExecutionResult]
) -> ExecutionResult:
    done: ExecutionResult | None = None
    try:
        done = await result
        return done
    finally:
        shared = done if done is not None and not done.errors else None
        if renders.get(key) is entry:  # not let go meanwhile (`MAX_KEPT_DELIVERIES`)
            if shared is None:
                del renders[key]
            else:
                renders[key] = _Kept(entry.operation, shared, None)
        assert entry.pending is not None
        entry.pending.set_result(shared)


async def _follow(
    pending: asyncio.Future[ExecutionResult | None],
    execute: Callable[[], AwaitableOrValue[ExecutionResult]],
) -> ExecutionResult:
    shared = await asyncio.shield(pending)
    if shared is not None:
        return shared
    result = execute()
    return await result if inspect.isawaitable(result) else result
