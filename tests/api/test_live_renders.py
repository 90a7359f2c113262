"""`live_renders`: the key (the variables a selection reads, not the filter's), and
`rendered_once`: one execution per key and event, whatever the order in which
subscribers ask; nothing kept that another subscriber should not be sent (a result with
errors, a leader that was cancelled)."""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)
from graphql.pyutils import AwaitableOrValue

from gallery_gql.api import live_renders
from gallery_gql.api.live_renders import render_key, rendered_once, shared_event
from gallery_gql.gallery.item_events import EventKind
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.live.subscription import Delivery

SELECTING = """subscription S($tags: [ID!], $n: Int, $x: Boolean) {
  a(tags: $tags) { b(n: $n) c @include(if: $x) }
}"""


def _operation(text: str = SELECTING) -> OperationDefinitionNode:
    (operation,) = (node for node in parse(text).definitions if node.kind == "operation_definition")
    assert isinstance(operation, OperationDefinitionNode)
    return operation


def _fragments(text: str) -> dict[str, FragmentDefinitionNode]:
    return {
        node.name.value: node
        for node in parse(text).definitions
        if isinstance(node, FragmentDefinitionNode)
    }


def _key(variables: dict[str, Any], viewer: object = None) -> tuple[int, bytes, object] | None:
    return render_key(OPERATION, {}, variables, viewer)


OPERATION = _operation()
KEY = _key({"n": 1, "x": True})
OK = ExecutionResult(data={"a": 1})


class Executions:
    """An `execute` that counts its calls and answers with `result`, after `delay`
    seconds when it is asynchronous."""

    def __init__(self, result: ExecutionResult, delay: float | None = None) -> None:
        self.result, self.delay, self.calls = result, delay, 0

    def __call__(self) -> AwaitableOrValue[ExecutionResult]:
        self.calls += 1
        if self.delay is None:
            return self.result
        return self._later()

    async def _later(self) -> ExecutionResult:
        assert self.delay is not None
        await asyncio.sleep(self.delay)
        return self.result


async def _run(
    renders: dict[Any, Any],
    execute: Callable[[], AwaitableOrValue[ExecutionResult]],
    key: tuple[int, bytes, object] | None = KEY,
    operation: OperationDefinitionNode = OPERATION,
) -> ExecutionResult:
    result = rendered_once(renders, key, operation, execute)
    return await result if inspect.isawaitable(result) else result


async def _started(
    renders: dict[Any, Any], execute: Callable[[], AwaitableOrValue[ExecutionResult]]
) -> asyncio.Future[ExecutionResult]:
    """A subscriber's run, begun and left at its first wait."""
    run = asyncio.ensure_future(_run(renders, execute))
    await asyncio.sleep(0)
    return run


def test_variables_are_keyed_by_value_not_by_spelling() -> None:
    assert _key({"x": True, "n": 1}) == KEY
    assert _key({"n": 2, "x": True}) != KEY
    assert _key({"n": 1, "x": True}, "viewer") != KEY
    assert _key({"n": 1}) != KEY  # absent is not false
    assert _key({"n": object()}) is None  # no canonical spelling


def test_the_filters_variables_are_not_in_the_key() -> None:
    """The root field's arguments choose which events come, not how one reads."""
    assert _key({"n": 1, "x": True, "tags": ["a"]}) == KEY
    assert _key({"n": 1, "x": True, "tags": ["b", "c"]}) == KEY


def test_variables_read_through_fragments_and_root_directives_are_in_the_key() -> None:
    text = """subscription S($tags: [ID!], $n: Int, $x: Boolean!) {
      a(tags: $tags) @include(if: $x) { ...F }
    }
    fragment F on A { b(n: $n) }"""
    operation, fragments = _operation(text), _fragments(text)
    base = render_key(operation, fragments, {"tags": [], "n": 1, "x": True}, None)
    assert render_key(operation, fragments, {"tags": ["a"], "n": 1, "x": True}, None) == base
    assert render_key(operation, fragments, {"tags": [], "n": 2, "x": True}, None) != base
    assert render_key(operation, fragments, {"tags": [], "n": 1, "x": False}, None) != base


def test_a_fragment_at_the_root_keys_every_variable() -> None:
    text = """subscription S($tags: [ID!]) { ...R }
    fragment R on Subscription { a(tags: $tags) { b } }"""
    operation, fragments = _operation(text), _fragments(text)
    first = render_key(operation, fragments, {"tags": ["a"]}, None)
    assert render_key(operation, fragments, {"tags": ["b"]}, None) != first


async def test_a_synchronous_result_is_executed_once_per_key() -> None:
    renders: dict[Any, Any] = {}
    execute = Executions(OK)
    results = [await _run(renders, execute) for _ in range(5)]
    assert execute.calls == 1
    assert all(result is OK for result in results)
    other = _key({})
    assert await _run(renders, execute, key=other) is OK
    assert execute.calls == 2


@pytest.mark.parametrize("delay", [None, 0.01])
async def test_a_result_with_errors_is_not_kept(delay: float | None) -> None:
    renders: dict[Any, Any] = {}
    failed = ExecutionResult(data={"a": None}, errors=[GraphQLError("no")])
    execute = Executions(failed, delay)
    for _ in range(3):
        assert await _run(renders, execute) is failed
    assert execute.calls == 3
    assert KEY not in renders


async def test_followers_wait_for_the_first_execution() -> None:
    renders: dict[Any, Any] = {}
    execute = Executions(OK, delay=0.02)
    results = await asyncio.gather(*(_run(renders, execute) for _ in range(10)))
    assert execute.calls == 1
    assert all(result is OK for result in results)
    assert await _run(renders, execute) is OK  # kept, now complete
    assert execute.calls == 1


async def test_followers_run_their_own_when_the_first_fails() -> None:
    renders: dict[Any, Any] = {}
    failed = ExecutionResult(data=None, errors=[GraphQLError("no")])
    first = Executions(failed, delay=0.02)
    leader = await _started(renders, first)
    own = Executions(OK)
    followers = await asyncio.gather(*(_run(renders, own) for _ in range(3)))
    assert await leader is failed
    assert followers == [OK, OK, OK]
    assert own.calls == 3  # each its own, as without sharing


async def test_a_cancelled_first_subscriber_leaves_the_others_to_run_their_own() -> None:
    renders: dict[Any, Any] = {}
    leader = await _started(renders, Executions(OK, delay=10))
    own = Executions(OK)
    follower = await _started(renders, own)
    leader.cancel()
    assert await follower is OK
    assert own.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_cancelled_follower_does_not_cancel_the_first() -> None:
    renders: dict[Any, Any] = {}
    execute = Executions(OK, delay=0.02)
    leader = await _started(renders, execute)
    follower = await _started(renders, execute)
    follower.cancel()
    assert await leader is OK
    assert execute.calls == 1


async def test_another_operation_under_a_reused_id_is_executed() -> None:
    renders: dict[Any, Any] = {}
    await _run(renders, Executions(OK))
    other = _operation("subscription { b }")
    result = ExecutionResult(data={"b": 2})
    assert await _run(renders, Executions(result), operation=other) is result


async def test_without_a_key_every_subscriber_executes() -> None:
    renders: dict[Any, Any] = {}
    execute = Executions(OK)
    for _ in range(3):
        await _run(renders, execute, key=None)
    assert execute.calls == 3
    assert renders == {}


def _delivery(subscribers: int, n: int = 1) -> Delivery:
    return Delivery(EventKind.DELETED, ItemKey(Source.AUTO, n), None, 1, subscribers)


def test_a_delivery_of_one_subscriber_keeps_nothing() -> None:
    delivery = _delivery(subscribers=1)
    first, second = shared_event(delivery), shared_event(delivery)
    assert first is not second
    assert first.renders is None
    assert delivery.renders == {}


def test_a_delivery_of_several_subscribers_has_one_event() -> None:
    delivery = _delivery(subscribers=3)
    event = shared_event(delivery)
    assert shared_event(delivery) is event
    assert event.renders is delivery.renders


async def test_past_the_bound_the_oldest_renders_are_let_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live_renders, "MAX_KEPT_DELIVERIES", 2)
    monkeypatch.setattr(live_renders, "_kept", deque())
    deliveries = [_delivery(subscribers=2, n=n) for n in range(3)]
    execute = Executions(OK)
    events = []
    for delivery in deliveries:
        events.append(shared_event(delivery))
        await _run(delivery.renders, execute)
    assert execute.calls == 3
    assert deliveries[0].renders == {}  # let go: the third was kept
    assert all(KEY in delivery.renders for delivery in deliveries[1:])
    again = shared_event(deliveries[0])
    assert again is not events[0]
    await _run(deliveries[0].renders, execute)
    assert execute.calls == 4
    assert deliveries[1].renders == {}  # the first was kept again, so the next went


async def test_renders_let_go_while_the_first_awaits_stay_gone() -> None:
    renders: dict[Any, Any] = {}
    execute = Executions(OK, delay=0.02)
    leader = await _started(renders, execute)
    follower = await _started(renders, execute)
    renders.clear()
    assert await leader is OK
    assert await follower is OK
    assert execute.calls == 1
    assert renders == {}
