"""Batches of creates and retags: every problem of every request reported, nothing written
unless all pass, results in input order, idempotency keys replayed, no deadlock between
batches that name the same items in other orders."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.batches import create_batch, retag_batch
from gallery_gql.gallery.writes.errors import (
    BatchRejectedError,
    BatchTooLargeError,
    ForbiddenItemError,
    IdempotencyKeyReusedError,
    InvalidContentError,
    ItemNotFoundError,
    TooManyTagsError,
    UnknownTagValuesError,
    VersionConflictError,
)
from gallery_gql.gallery.writes.inputs import Actor, CreateRequest, RetagRequest
from gallery_gql.gallery.writes.limits import MAX_BATCH, MAX_TAGS_PER_ITEM
from tests.factories import Dataset
from tests.gallery.writes.content_rows import in_tx, item_of, item_row, new_item, table_counts
from tests.integrity import integrity_problems

# -- creates -------------------------------------------------------------------------------


async def test_create_batch_reports_every_problem_and_writes_nothing(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    actor = Actor(dataset.users[1])
    before = await table_counts(engine)
    too_many = tuple(f"nope-{n}" for n in range(3))
    requests = [
        CreateRequest(new_item(), ("tag-1",)),
        CreateRequest(new_item(title=" ", quality_score=1.5, content_type="gif"), ()),
        CreateRequest(new_item(), ("tag-1", "ghost", "tag-2", "ghost", "phantom")),
        CreateRequest(new_item(prompt="x" * 20_001, item_metadata={"a": "\x00"}), too_many),
    ]
    with pytest.raises(BatchRejectedError) as caught:
        await in_tx(engine, lambda conn: create_batch(conn, actor, requests))
    problems = caught.value.problems
    assert sorted(problems) == [1, 2, 3]
    (invalid,) = problems[1]
    assert isinstance(invalid, InvalidContentError)
    assert {p.field for p in invalid.problems} == {"title", "quality_score", "content_type"}
    (unknown,) = problems[2]
    assert isinstance(unknown, UnknownTagValuesError)
    assert unknown.values == ["ghost", "phantom"]
    assert unknown.field == "tags"
    invalid, unknown = problems[3]
    assert isinstance(invalid, InvalidContentError)
    assert isinstance(unknown, UnknownTagValuesError)
    assert {p.field for p in invalid.problems} == {"prompt", "item_metadata"}
    assert unknown.values == list(too_many)
    assert await table_counts(engine) == before
    assert await integrity_problems(engine) == []


async def test_create_batch_rejects_too_many_tags_and_too_many_items(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    actor = Actor(dataset.users[1])
    names = [f"bulk-{n}" for n in range(MAX_TAGS_PER_ITEM + 1)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tags (id, name) SELECT gen_random_uuid(), unnest(CAST(:n AS text[]))"
            ),
            {"n": names},
        )
    # repeats do not count: exactly MAX distinct tags pass
    ok = CreateRequest(new_item(), (*names[:MAX_TAGS_PER_ITEM], names[0], names[1]))
    (write,) = await in_tx(engine, lambda conn: create_batch(conn, actor, [ok]))
    assert len((await item_row(engine, write.item)).tags) == MAX_TAGS_PER_ITEM
    with pytest.raises(BatchRejectedError) as caught:
        await in_tx(
            engine,
            lambda conn: create_batch(conn, actor, [CreateRequest(new_item(), tuple(names))]),
        )
    assert isinstance(caught.value.problems[0][0], TooManyTagsError)
    with pytest.raises(BatchTooLargeError):
        await in_tx(
            engine,
            lambda conn: create_batch(conn, actor, [CreateRequest(new_item())] * (MAX_BATCH + 1)),
        )
    assert await integrity_problems(engine) == []


# -- retags --------------------------------------------------------------------------------


async def test_retag_batch_collects_every_problem(engine: AsyncEngine, dataset: Dataset) -> None:
    owner, other = dataset.users[1], dataset.users[2]
    mine = await item_of(engine, creator=owner, private=False)
    theirs_public = await item_of(engine, creator=other, private=False)
    theirs_private = await item_of(engine, creator=other, private=True)
    version = (await item_row(engine, mine)).version
    requests = [
        RetagRequest(mine, set=("tag-1",), expected_version=version + 1),
        RetagRequest(theirs_public, add=("tag-2",)),
        RetagRequest(theirs_private, add=("tag-2",)),
        RetagRequest(ItemKey(Source.AUTO, 5), add=("nope",), remove=("tag-1", "never")),
        RetagRequest(ItemKey(Source.AUTO, 6), set=("tag-1",), add=("tag-2",)),
        RetagRequest(ItemKey(Source.AUTO, 7)),
        RetagRequest(mine, add=("tag-3",)),
    ]
    before = await table_counts(engine)
    actor = Actor(owner)
    with pytest.raises(BatchRejectedError) as caught:
        await in_tx(engine, lambda conn: retag_batch(conn, actor, requests))
    problems = caught.value.problems
    assert sorted(problems) == [0, 1, 2, 3, 4, 5, 6]
    assert [type(e) for e in problems[0]] == [VersionConflictError]
    assert [type(e) for e in problems[1]] == [ForbiddenItemError]
    assert [type(e) for e in problems[2]] == [ItemNotFoundError]
    unknown = {
        (e.field, tuple(e.values)) for e in problems[3] if isinstance(e, UnknownTagValuesError)
    }
    assert unknown == {("add", ("nope",)), ("remove", ("never",))}
    for index in (4, 5, 6):  # malformed: both set and add, neither, the same item twice
        (malformed,) = problems[index]
        assert isinstance(malformed, InvalidContentError)
        if index == 6:
            assert malformed.problems[0].field == "id"
    assert await table_counts(engine) == before


async def test_retag_batch_applies_all_and_returns_versions(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    keys = [ItemKey(Source.AUTO, n) for n in (9, 3, 7)] + [ItemKey(Source.REGULAR, 2)]
    versions = {key: (await item_row(engine, key)).version for key in keys}
    requests = [
        RetagRequest(keys[0], set=("tag-1", str(dataset.tags[2]))),
        RetagRequest(keys[1], add=("tag-9",)),
        RetagRequest(keys[2], remove=("tag-0",)),
        RetagRequest(keys[3], set=()),
    ]
    writes = await in_tx(engine, lambda conn: retag_batch(conn, admin, requests))
    assert [w.item for w in writes] == keys
    assert all(w.version == versions[w.item] + 1 for w in writes)
    assert set(writes[0].tags) == {dataset.tags[1], dataset.tags[2]}
    assert dataset.tags[9] in writes[1].tags
    assert dataset.tags[0] not in writes[2].tags
    assert writes[3].tags == ()
    for write in writes:
        assert set((await item_row(engine, write.item)).tags) == set(write.tags)
    assert await integrity_problems(engine) == []


async def test_retag_batch_replays_and_refuses_reused_keys(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    key = ItemKey(Source.AUTO, 4)
    request = RetagRequest(key, add=("tag-8",), idempotency_key="k1")
    first = await in_tx(engine, lambda conn: retag_batch(conn, admin, [request]))
    again = await in_tx(engine, lambda conn: retag_batch(conn, admin, [request]))
    assert not first[0].replayed
    assert again[0].replayed
    assert (again[0].item, again[0].version, again[0].tags) == (
        first[0].item,
        first[0].version,
        first[0].tags,
    )
    assert (await item_row(engine, key)).version == first[0].version  # written once
    other = RetagRequest(key, add=("tag-7",), idempotency_key="k1")
    with pytest.raises(BatchRejectedError) as caught:
        await in_tx(engine, lambda conn: retag_batch(conn, admin, [other]))
    assert isinstance(caught.value.problems[0][0], IdempotencyKeyReusedError)


async def test_opposite_order_batches_do_not_deadlock(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    keys = [ItemKey(Source.AUTO, n) for n in range(1, 21)]

    async def batch(order: Sequence[ItemKey], tag: str) -> None:
        requests = [RetagRequest(key, add=(tag,)) for key in order]
        await in_tx(engine, lambda conn: retag_batch(conn, admin, requests))

    for round_ in range(5):
        await asyncio.gather(
            batch(keys, f"tag-{round_}"),
            batch(keys[::-1], f"tag-{round_ + 5}"),
            batch(keys[5:] + keys[:5], "tag-9"),
        )
    assert await integrity_problems(engine) == []
