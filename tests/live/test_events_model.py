"""Live events against the plain-Python model (tests/model.py): subscribers on one worker,
writes through the other; after each write the model says which subscriber must get the
item, which must be told it left, and which may hear nothing of it."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.mutations.calls import BULK_CREATE, CREATE, DELETE, RETAG, UPDATE, new_item
from tests.live.client import LiveClient, live_client, post
from tests.live.conftest import Gallery, Workers, until
from tests.model import ModelItem, ModelQuery, expected, load_items


@dataclass(frozen=True)
class Subscriber:
    viewer: int | None  # user index, None: anonymous
    variables: dict[str, Any]
    query: ModelQuery


def _subscribers(gallery: Gallery) -> list[Subscriber]:
    users, t = gallery.dataset.users, [str(tag) for tag in gallery.dataset.tags]
    tags = gallery.dataset.tags
    return [
        Subscriber(None, {}, ModelQuery()),
        Subscriber(1, {}, ModelQuery(viewer_id=users[1])),
        Subscriber(
            1, {"tags": [t[0], t[1]]}, ModelQuery(tags=(tags[0], tags[1]), viewer_id=users[1])
        ),
        Subscriber(
            2,
            {"tags": [t[0], t[2]], "match": "ALL", "excludeTags": [t[3]]},
            ModelQuery(
                tags=(tags[0], tags[2]), match="ALL", exclude_tags=(tags[3],), viewer_id=users[2]
            ),
        ),
        Subscriber(
            1, {"creator": {"scope": "ME"}}, ModelQuery(creator_id=users[1], viewer_id=users[1])
        ),
        Subscriber(
            2,
            {"creator": {"scope": "OTHERS"}, "sources": ["AUTO"]},
            ModelQuery(not_creator_id=users[2], sources=("AUTO",), viewer_id=users[2]),
        ),
        Subscriber(
            1,
            {"collections": ["USER_REGULAR", "COMMUNITY_AUTO"]},
            ModelQuery(
                collections=frozenset({"USER_REGULAR", "COMMUNITY_AUTO"}), viewer_id=users[1]
            ),
        ),
        Subscriber(None, {"search": "cat"}, ModelQuery(search="cat")),
        Subscriber(
            3,
            {"creator": {"userId": str(users[1])}, "excludeTags": [t[0]]},
            ModelQuery(creator_id=users[1], exclude_tags=(tags[0],), viewer_id=users[3]),
        ),
        Subscriber(
            2,
            {"search": "dog", "tags": [t[2]]},
            ModelQuery(search="dog", tags=(tags[2],), viewer_id=users[2]),
        ),
    ]


def _key(global_id: str) -> tuple[str, int]:
    _, source, item_id = base64.b64decode(global_id).decode().split(":")
    return source, int(item_id)


def _global(key: tuple[str, int]) -> str:
    return base64.b64encode(f"ContentItem:{key[0]}:{key[1]}".encode()).decode()


def _matches(item: ModelItem | None, q: ModelQuery) -> bool:
    return item is not None and bool(expected([item], q))


def _visible(item: ModelItem | None, viewer: UUID | None) -> bool:
    return item is not None and (not item.is_private or item.creator_id == viewer)


class Expectations:
    def __init__(self, subscribers: list[Subscriber], users: list[UUID]) -> None:
        self.subscribers = subscribers
        self.users = users
        self.items: list[Counter[tuple[str, str]]] = [Counter() for _ in subscribers]
        self.required_gone: list[Counter[tuple[str, str]]] = [Counter() for _ in subscribers]
        self.allowed_gone: list[Counter[tuple[str, str]]] = [Counter() for _ in subscribers]

    def write(
        self,
        kind: str,
        key: tuple[str, int],
        before: dict[tuple[str, int], ModelItem],
        after: dict[tuple[str, int], ModelItem],
    ) -> None:
        for n, sub in enumerate(self.subscribers):
            viewer = self.users[sub.viewer] if sub.viewer is not None else None
            event = (kind, _global(key))
            if _matches(after.get(key), sub.query):
                self.items[n][event] += 1
            elif kind != "CREATED" and _visible(before.get(key), viewer):
                self.allowed_gone[n][event] += 1
                if _matches(before.get(key), sub.query):
                    self.required_gone[n][event] += 1


async def _state(engine: AsyncEngine) -> dict[tuple[str, int], ModelItem]:
    return {(item.source, item.id): item for item in await load_items(engine)}


async def _until_processed(workers: Workers, events: int) -> None:
    await until(lambda: workers.hub(1).processed >= events)


async def test_events_are_exactly_what_the_model_says(
    engine: AsyncEngine, gallery: Gallery, workers: Workers
) -> None:
    writer, listening = workers.urls
    users, tokens = gallery.dataset.users, gallery.tokens
    t = [str(tag) for tag in gallery.dataset.tags]
    subscribers = _subscribers(gallery)
    clients: list[LiveClient] = []
    events_sent = 0
    expect = Expectations(subscribers, users)

    async def write(kind: str, query: str, variables: dict[str, Any], user: int) -> dict[str, Any]:
        nonlocal events_sent
        before = await _state(engine)
        data = await post(writer, query, variables, tokens[user])
        after = await _state(engine)
        payload = next(iter(data.values()))
        assert not payload.get("errors"), payload
        if kind == "DELETED":
            keys = [_key(variables["input"]["id"])]
        elif "results" in payload:
            keys = [_key(result["item"]["id"]) for result in payload["results"]]
        else:
            keys = [_key(payload["item"]["id"])]
        for key in keys:
            expect.write(kind, key, before, after)
        events_sent += len(keys)
        await _until_processed(workers, events_sent)
        return payload

    async with asyncio.timeout(120):
        opened = [
            live_client(listening, tokens[sub.viewer] if sub.viewer is not None else None)
            for sub in subscribers
        ]
        for sub, context in zip(subscribers, opened, strict=True):
            client = await context.__aenter__()
            await client.subscribe(sub.variables)
            clients.append(client)
        try:
            await _until_subscribed(workers, len(subscribers))
            dog = {"title": "A dog", "prompt": "a dog in the fog"}
            one = await write("CREATED", CREATE, {"input": new_item(tags=[t[0], t[1]])}, 1)
            two = await write(
                "CREATED",
                CREATE,
                {"input": new_item(source="AUTO", isPrivate=True, tags=[t[0], t[2], t[3]])},
                1,
            )
            three = await write(
                "CREATED", CREATE, {"input": new_item(source="AUTO", tags=[t[0], t[2]], **dog)}, 2
            )
            four = await write(
                "CREATED", CREATE, {"input": new_item(isPrivate=True, tags=[t[1]])}, 2
            )
            await write("RETAGGED", RETAG, {"input": {"id": one["item"]["id"], "set": [t[2]]}}, 1)
            await write(
                "UPDATED", UPDATE, {"input": {"id": three["item"]["id"], "isPrivate": True}}, 2
            )
            await write(
                "UPDATED", UPDATE, {"input": {"id": two["item"]["id"], "isPrivate": False}}, 1
            )
            await write(
                "RETAGGED", RETAG, {"input": {"id": two["item"]["id"], "remove": [t[3]]}}, 1
            )
            await write(
                "UPDATED", UPDATE, {"input": {"id": one["item"]["id"], "title": "A dog"}}, 1
            )
            await write("DELETED", DELETE, {"input": {"id": four["item"]["id"]}}, 2)
            await write("DELETED", DELETE, {"input": {"id": one["item"]["id"]}}, 1)
            batch = [
                new_item(tags=[t[0], t[2]], **dog),
                new_item(source="AUTO", tags=[t[2]], isPrivate=True, **dog),
                new_item(source="AUTO", tags=[t[1], t[4]]),
            ]
            await write("CREATED", BULK_CREATE, {"input": {"items": batch}}, 2)
            for n, client in enumerate(clients):
                got_items: Counter[tuple[str, str]] = Counter()
                got_gone: Counter[tuple[str, str]] = Counter()
                for message in await client.quiet(0.3):
                    assert message["type"] == "next", message
                    event = message["payload"]["data"]["contentItemEvents"]
                    pair = (event["kind"], event["itemId"])
                    if event["item"] is None:
                        got_gone[pair] += 1
                    else:
                        assert event["item"]["id"] == event["itemId"]
                        got_items[pair] += 1
                assert got_items == expect.items[n], (n, subscribers[n])
                assert not expect.required_gone[n] - got_gone, (n, subscribers[n])
                assert not got_gone - expect.allowed_gone[n], (n, subscribers[n])
            assert sum(sum(counter.values()) for counter in expect.items) > 20
        finally:
            for context in opened:
                await context.__aexit__(None, None, None)


async def _until_subscribed(workers: Workers, count: int) -> None:
    await until(lambda: workers.hub(1).subscriptions >= count)
