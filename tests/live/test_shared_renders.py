"""Subscribers that would render an event alike share one execution of it
(`api/live_renders.py`), whatever their filters, and each is sent exactly what it is sent
alone: every group of alike subscribers gets, message for message, what a subscriber of
the same filter gets whose document is spelled apart (so it shares nothing), and the
subscribers of one viewer and one document execute each event once, across filters."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from gallery_gql.api import live_renders
from tests.api.mutations.calls import CREATE, DELETE, RETAG, UPDATE, new_item
from tests.live.client import EVENTS, LiveClient, live_client, post
from tests.live.conftest import Gallery, Workers, until

WITH_CREATOR = EVENTS.replace("tags { id }", "tags { id name } creator { username }")


def _apart(n: int, query: str) -> str:
    """The same document spelled apart: parsed on its own, it shares no execution."""
    return f"# group {n}, executed apart\n{query}"


@dataclass(frozen=True)
class Group:
    viewer: int | None
    variables: dict[str, Any]
    query: str
    size: int


def _groups(tags: list[str]) -> list[Group]:
    return [
        Group(None, {}, EVENTS, 3),
        # Another filter (a tag the writes never use) choosing the same events, read
        # alike: the first group's executions serve it too.
        Group(None, {"excludeTags": [tags[5]]}, EVENTS, 2),
        Group(1, {}, EVENTS, 2),  # sees user 1's private items
        Group(2, {}, EVENTS, 2),
        Group(None, {}, WITH_CREATOR, 2),  # another selection, loaders awaited
        Group(1, {"tags": [tags[0]], "match": "ANY"}, WITH_CREATOR, 2),
    ]


async def test_alike_subscribers_share_one_execution_and_get_what_they_get_alone(
    gallery: Gallery, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, listening = workers.urls
    tokens, t = gallery.tokens, [str(tag) for tag in gallery.dataset.tags]
    leads: Counter[Any] = Counter()
    lead = live_renders._lead

    def counted(renders: dict[Any, Any], key: Any, *args: Any) -> Any:
        leads[key] += 1
        return lead(renders, key, *args)

    monkeypatch.setattr(live_renders, "_lead", counted)
    groups = _groups(t)
    members: list[tuple[Group, LiveClient]] = []
    apart: list[tuple[Group, LiveClient]] = []
    async with asyncio.timeout(120):
        opened = []
        for number, group in enumerate(groups):
            token = tokens[group.viewer] if group.viewer is not None else None
            for n in range(group.size + 1):
                context = live_client(listening, token)
                opened.append(context)
                client = await context.__aenter__()
                on_its_own = n == group.size
                query = _apart(number, group.query) if on_its_own else group.query
                await client.subscribe(group.variables, query)
                (apart if on_its_own else members).append((group, client))
        try:
            await until(lambda: workers.hub(1).subscriptions >= len(opened))
            sent = 0

            async def write(query: str, variables: dict[str, Any], user: int) -> dict[str, Any]:
                nonlocal sent
                data = await post(writer, query, {"input": variables}, tokens[user])
                payload: dict[str, Any] = next(iter(data.values()))
                assert not payload.get("errors"), payload
                sent += 1
                await until(lambda: workers.hub(1).processed >= sent)
                return payload

            one = await write(CREATE, new_item(tags=[t[0], t[1]]), 1)
            two = await write(CREATE, new_item(source="AUTO", isPrivate=True, tags=[t[0]]), 1)
            await write(CREATE, new_item(tags=[t[2]]), 2)
            await write(RETAG, {"id": one["item"]["id"], "set": [t[2]]}, 1)
            await write(UPDATE, {"id": two["item"]["id"], "isPrivate": False}, 1)
            await write(UPDATE, {"id": one["item"]["id"], "title": "A dog"}, 1)
            await write(DELETE, {"id": two["item"]["id"]}, 1)

            clients = [client for _, client in members + apart]
            drained = await asyncio.gather(*(client.quiet(1.0) for client in clients))
            received = {id(client): got for client, got in zip(clients, drained, strict=True)}
        finally:
            for context in opened:
                await context.__aexit__(None, None, None)

    def payloads(client: LiveClient) -> list[Any]:
        messages = received[id(client)]
        assert all(message["type"] == "next" for message in messages), messages
        return [message["payload"] for message in messages]

    executions: Counter[tuple[int | None, str]] = Counter()
    for group, reference in apart:
        alone = payloads(reference)
        assert alone, group
        fields = {"id", "title", "isPrivate", "tags"} | (
            {"creator"} if group.query == WITH_CREATOR else set()
        )
        items = [payload["data"]["contentItemEvents"]["item"] for payload in alone]
        assert all(set(item) == fields for item in items if item is not None), group
        for member_group, member in members:
            if member_group is group:
                assert payloads(member) == alone, group
        alike = (group.viewer, group.query)
        assert executions[alike] in (0, len(alone)), group  # alike groups: the same events
        executions[alike] = len(alone)
    expected = [len(payloads(reference)) for _, reference in apart] + list(executions.values())
    assert sorted(leads.values()) == sorted(expected)
    assert sum(len(messages) for messages in received.values()) > sum(leads.values())
