"""A concurrency hammer through the API: 16 clients, ~300 mutations mixing retags (set,
add/remove, with and without expectedVersion) on 3 hot items with creates (some of them
concurrent twins sharing an idempotency key).

Afterwards arrays, junction and counts agree; the only errors are CONFLICTs for stale
versions; every hot item's acknowledged versions are exactly 2..final (no lost or
duplicated write), and replaying the acknowledged retags in version order gives its final
tags; every acknowledged create exists once, with its tags.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import build_gallery
from tests.integrity import integrity_problems

CLIENTS = 16
ROUNDS = 19  # per client: 16 * 19 = 304 mutations
TAGS = [f"tag-{n}" for n in range(10)]
ERRORS = "errors { code field message currentVersion }"
CREATE = f"""mutation Create($input: CreateContentInput!) {{
  createContent(input: $input) {{ item {{ id tags {{ name }} }} replayed {ERRORS} }}
}}"""
RETAG = f"""mutation Retag($input: RetagContentInput!) {{
  retagContent(input: $input) {{ item {{ id version }} version {ERRORS} }}
}}"""
TAGS_OF = "query TagsOf($id: ID!) { contentItem(id: $id) { version tags { name } } }"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The app's defaults (pool, timeouts) without the per-client rate limit: all 16
    clients share one address here."""
    return Settings(
        database_url=database_url, secret="test-secret-" + "x" * 32, home=tmp_path, rate_limit=""
    )


@dataclass
class Acked:
    retags: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    creates: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # key → item
    unexpected: list[Any] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)
    """Creates answered as written whose item could not be read back (a stalled server)."""
    conflicts: int = 0
    replayed: int = 0


LOCK_WAIT_ATTEMPTS = 5


async def _mutate(
    gql: GraphQLClient, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """The mutation's payload. A lock wait past the app's 1 s `lock_timeout` (the
    transaction rolled back: nothing written, no payload) is retried as a pipeline would;
    the machine's load, not the code, decides whether 16 writers on 3 items ever wait that
    long. A timeout inside a payload is a read after the write, which stands."""
    for _ in range(LOCK_WAIT_ATTEMPTS):
        body = await gql.post(query, {"input": variables}, token)
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
        payloads = list((body.get("data") or {}).values())
        if body["_status"] == 200 and codes == {"TIMEOUT"}:
            if payloads and payloads[0] is not None:
                written: dict[str, Any] = payloads[0]
                return written
            await asyncio.sleep(0.05)
            continue
        if "errors" in body or body["_status"] != 200:
            raise AssertionError(f"top-level error: {body}")
        (payload,) = body["data"].values()
        result: dict[str, Any] = payload
        return result
    raise AssertionError(f"still waiting for locks after {LOCK_WAIT_ATTEMPTS} attempts")


def _retag_change(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.4:
        return {"set": rng.sample(TAGS, rng.randint(0, 4))}
    change: dict[str, Any] = {"add": rng.sample(TAGS, rng.randint(1, 3))}
    if rng.random() < 0.7:
        change["remove"] = rng.sample(TAGS, rng.randint(1, 2))
    return change


def _apply(tags: set[str], change: dict[str, Any]) -> set[str]:
    if "set" in change:
        return set(change["set"])
    return (tags | set(change.get("add", []))) - set(change.get("remove", []))


def _advance(tags: set[str], changes: list[dict[str, Any]], *, made_here: bool) -> set[str]:
    """The tags after the retags acknowledged with one version: one of them wrote it
    (`made_here`) and each of the others changed nothing."""
    candidates = [_apply(tags, change) for change in changes] if made_here else [tags]
    for after in candidates:
        if (after != tags or not made_here) and all(
            _apply(after, change) == after for change in changes
        ):
            return after
    raise AssertionError(f"no order explains the retags acknowledged at one version: {changes}")


async def _client(
    n: int,
    gql: GraphQLClient,
    tokens: list[str],
    hot: list[str],
    acked: Acked,
    twins: asyncio.Barrier,
) -> None:
    rng = random.Random(n)
    token = tokens[n % len(tokens)]
    known: dict[str, int] = dict.fromkeys(hot, 1)
    for round_ in range(ROUNDS):
        if round_ == ROUNDS // 2:
            # every client sends a create whose key it shares with another client of the
            # same user, at the same moment: one row each pair, both acknowledged
            await twins.wait()
            key = f"twin-{n // len(tokens) // 2}-{n % len(tokens)}"
            tags = ["tag-1", "tag-2"]
            item = {"title": key, "contentType": "image", "contentData": "/d.png", "prompt": key}
            payload = await _mutate(
                gql, CREATE, {**item, "tags": tags, "idempotencyKey": key}, token
            )
            _record_create(acked, f"{n}:{round_}", payload, tags, key)
        elif rng.random() < 0.35:
            tags = rng.sample(TAGS, rng.randint(0, 3))
            item = {
                "title": f"c{n}-{round_}",
                "contentType": "image",
                "contentData": "/d.png",
                "prompt": "p",
                "source": rng.choice(["REGULAR", "AUTO"]),
            }
            payload = await _mutate(gql, CREATE, {**item, "tags": tags}, token)
            _record_create(acked, f"{n}:{round_}", payload, tags, None)
        else:
            item_id = rng.choice(hot)
            change = _retag_change(rng)
            variables: dict[str, Any] = {"id": item_id, **change}
            if rng.random() < 0.5:
                variables["expectedVersion"] = known[item_id]
            payload = await _mutate(gql, RETAG, variables, token)
            if payload["errors"]:
                codes = [(e["code"], e["field"]) for e in payload["errors"]]
                if codes == [("CONFLICT", "expectedVersion")] and "expectedVersion" in variables:
                    acked.conflicts += 1
                    known[item_id] = payload["errors"][0]["currentVersion"]
                else:
                    acked.unexpected.append(payload["errors"])
                continue
            acked.retags.setdefault(item_id, []).append((payload["version"], change))
            known[item_id] = payload["version"]


def _record_create(
    acked: Acked, label: str, payload: dict[str, Any], tags: list[str], key: str | None
) -> None:
    if payload["errors"]:
        acked.unexpected.append(payload["errors"])
        return
    acked.replayed += payload["replayed"]
    if payload["item"] is None or payload["item"]["tags"] is None:
        acked.unread.add(key or label)
        return
    item_id = payload["item"]["id"]
    names = frozenset(tag["name"] for tag in payload["item"]["tags"])
    if names != set(tags):
        acked.unexpected.append(("create tags", names, tags))
    first = acked.creates.setdefault(key or label, (item_id, names))
    if first[0] != item_id:
        acked.unexpected.append(("a twin created a second item", key))


async def _rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM content_items) + "
                        "(SELECT count(*) FROM content_items_auto)"
                    )
                )
            ).scalar_one()
        )


async def test_concurrent_mutations_stay_consistent(
    gql: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    dataset = await build_gallery(engine, regular=10, auto=10)
    owner, admin = dataset.users[1], dataset.users[0]
    tokens = [mint_token(owner, settings), mint_token(admin, settings)]
    hot = []
    for n in range(3):
        item = {"title": f"hot {n}", "contentType": "image", "contentData": "/h.png", "prompt": "h"}
        payload = await _mutate(gql, CREATE, {**item, "tags": ["tag-0"]}, tokens[0])
        hot.append(payload["item"]["id"])
    rows_before = await _rows(engine)

    acked = Acked()
    twins = asyncio.Barrier(CLIENTS)
    started = time.monotonic()
    await asyncio.wait_for(
        asyncio.gather(*(_client(n, gql, tokens, hot, acked, twins) for n in range(CLIENTS))),
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert acked.unexpected == []
    assert acked.replayed == CLIENTS // 2  # one of each pair of twins
    assert await integrity_problems(engine) == []
    retags = sum(len(changes) for changes in acked.retags.values())
    assert retags + acked.conflicts + len(acked.creates) >= CLIENTS * ROUNDS // 2
    for item_id in hot:
        current = (await gql.data(TAGS_OF, {"id": item_id}, tokens[0]))["contentItem"]
        by_version: dict[int, list[dict[str, Any]]] = {}
        for version, change in acked.retags.get(item_id, []):
            by_version.setdefault(version, []).append(change)
        # every version acknowledged exactly once as a write; a retag that changed
        # nothing keeps the version, so it is acknowledged with the version it found
        assert set(by_version) - {1} == set(range(2, current["version"] + 1))
        expected = {"tag-0"}
        for version in sorted(by_version):
            expected = _advance(expected, by_version[version], made_here=version > 1)
        assert {tag["name"] for tag in current["tags"]} == expected
    created = {item_id for item_id, _ in acked.creates.values()}
    unread = len(acked.unread - set(acked.creates))  # written, never read back
    assert await _rows(engine) == rows_before + len(created) + unread  # twins: one row each
    for item_id, names in acked.creates.values():
        current = (await gql.data(TAGS_OF, {"id": item_id}, tokens[0]))["contentItem"]
        assert {tag["name"] for tag in current["tags"]} == names
    print(f"{retags} retags, {acked.conflicts} conflicts, {len(created)} creates in {elapsed:.1f}s")
    assert elapsed < 30
