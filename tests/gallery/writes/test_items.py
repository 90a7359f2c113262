"""Content writes (create, update, delete, batches) keep arrays, junction, sort keys and
counts in agreement, check everything before writing, and retry deadlocks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.failures import sqlstate
from gallery_gql.db.tables import CONTENT_TABLES
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
from gallery_gql.gallery.writes.inputs import (
    Actor,
    CreateRequest,
    ItemChanges,
    NewItem,
    RetagRequest,
)
from gallery_gql.gallery.writes.items import create_items, delete_items, update_item
from gallery_gql.gallery.writes.limits import MAX_BATCH, MAX_TAGS_PER_ITEM
from gallery_gql.gallery.writes.tag_refs import resolve_tag_refs
from tests.factories import Dataset, build_gallery, write_transaction
from tests.integrity import integrity_problems


@pytest.fixture
async def dataset(engine: AsyncEngine) -> Dataset:
    return await build_gallery(engine, regular=20, auto=30)


def _new(source: Source = Source.REGULAR, **fields: Any) -> NewItem:
    values: dict[str, Any] = {
        "source": source,
        "title": "A cat",
        "content_type": "image",
        "content_data": "/data/cat.png",
        "prompt": "a cat on a mat",
    }
    values.update(fields)
    return NewItem(**values)


async def _row(engine: AsyncEngine, key: ItemKey) -> Any:
    async with engine.connect() as conn:
        table = CONTENT_TABLES[key.source].name
        result = await conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": key.id})
        return result.first()


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("content_items", "content_items_auto", "content_tags", "tags")
        }


async def _tag_counts(engine: AsyncEngine, tag: UUID, source: Source) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT c.items, c.private_items FROM tag_counts c JOIN tags t "
                    "USING (tag_key) WHERE t.id = :tag AND c.source = :source"
                ),
                {"tag": tag, "source": int(source)},
            )
        ).first()
    return (row.items, row.private_items) if row else (0, 0)


async def _item_of(
    engine: AsyncEngine, *, creator: UUID, private: bool, tags: Sequence[str] = ("tag-1", "tag-2")
) -> ItemKey:
    """A new regular item with these owner, privacy and tags."""

    async def make(conn: AsyncConnection) -> ItemKey:
        refs = frozenset(await resolve_tag_refs(conn, tags))
        item = _new(is_private=private, tags=refs, quality_score=0.5)
        (write,) = await create_items(conn, creator, [item])
        return write.item

    key: ItemKey = await write_transaction(engine, make)
    return key


async def _creator(engine: AsyncEngine, key: ItemKey) -> UUID:
    row = await _row(engine, key)
    return UUID(str(row.creator_id))


async def _in_tx(engine: AsyncEngine, fn: Any) -> Any:
    return await write_transaction(engine, fn)


# -- create --------------------------------------------------------------------------------


async def test_create_items_in_input_order_at_version_one(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    async with engine.connect() as conn:
        refs = frozenset(await resolve_tag_refs(conn, ["tag-1", "tag-9"]))
    items = [
        _new(Source.AUTO, title="first", tags=refs),
        _new(Source.REGULAR, title="second"),
        _new(Source.AUTO, title="third", is_private=True, tags=refs, quality_score=0.7),
    ]
    before = await _tag_counts(engine, dataset.tags[9], Source.AUTO)
    writes = await _in_tx(engine, lambda conn: create_items(conn, dataset.users[1], items))
    assert [w.item.source for w in writes] == [Source.AUTO, Source.REGULAR, Source.AUTO]
    for write, item in zip(writes, items, strict=True):
        row = await _row(engine, write.item)
        assert row.title == item.title
        assert row.version == write.version == 1
        assert set(row.tags) == {ref.id for ref in item.tags}
        assert row.path_thumbs_alt_res is None
    assert await _tag_counts(engine, dataset.tags[9], Source.AUTO) == (
        before[0] + 2,
        before[1] + 1,
    )
    assert await integrity_problems(engine) == []


async def test_create_batch_reports_every_problem_and_writes_nothing(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    actor = Actor(dataset.users[1])
    before = await _counts(engine)
    too_many = tuple(f"nope-{n}" for n in range(3))
    requests = [
        CreateRequest(_new(), ("tag-1",)),
        CreateRequest(_new(title=" ", quality_score=1.5, content_type="gif"), ()),
        CreateRequest(_new(), ("tag-1", "ghost", "tag-2", "ghost", "phantom")),
        CreateRequest(_new(prompt="x" * 20_001, item_metadata={"a": "\x00"}), too_many),
    ]
    with pytest.raises(BatchRejectedError) as caught:
        await _in_tx(engine, lambda conn: create_batch(conn, actor, requests))
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
    assert await _counts(engine) == before
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
    ok = CreateRequest(_new(), (*names[:MAX_TAGS_PER_ITEM], names[0], names[1]))
    (write,) = await _in_tx(engine, lambda conn: create_batch(conn, actor, [ok]))
    assert len((await _row(engine, write.item)).tags) == MAX_TAGS_PER_ITEM
    with pytest.raises(BatchRejectedError) as caught:
        await _in_tx(
            engine, lambda conn: create_batch(conn, actor, [CreateRequest(_new(), tuple(names))])
        )
    assert isinstance(caught.value.problems[0][0], TooManyTagsError)
    with pytest.raises(BatchTooLargeError):
        await _in_tx(
            engine,
            lambda conn: create_batch(conn, actor, [CreateRequest(_new())] * (MAX_BATCH + 1)),
        )
    assert await integrity_problems(engine) == []


# -- update --------------------------------------------------------------------------------


async def test_update_copies_quality_to_the_junction_and_moves_privacy_counts(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    owner = dataset.users[1]
    key = await _item_of(engine, creator=owner, private=False)
    before = await _row(engine, key)
    tag = before.tags[0]
    counts = await _tag_counts(engine, tag, key.source)
    changes = ItemChanges(quality_score=0.123, is_private=True, title="renamed", path_thumb=None)
    after = await _in_tx(
        engine,
        lambda conn: update_item(conn, key, changes, before.version, actor=Actor(owner)),
    )
    assert (after.version, after.title, after.path_thumb) == (before.version + 1, "renamed", None)
    assert after.quality_score == 0.123
    assert after.is_private
    assert after.updated_at > before.updated_at
    assert after.prompt == before.prompt
    assert await _tag_counts(engine, tag, key.source) == (counts[0], counts[1] + 1)
    assert await integrity_problems(engine) == []
    back = ItemChanges(is_private=False)
    await _in_tx(engine, lambda conn: update_item(conn, key, back, None))
    assert await _tag_counts(engine, tag, key.source) == counts
    assert await integrity_problems(engine) == []


async def test_update_checks_before_writing(engine: AsyncEngine, dataset: Dataset) -> None:
    owner, other, admin = dataset.users[1], dataset.users[2], dataset.users[0]
    public = await _item_of(engine, creator=owner, private=False)
    private = await _item_of(engine, creator=owner, private=True)
    version = (await _row(engine, public)).version
    change = ItemChanges(title="x")

    async def attempt(key: ItemKey, actor: Actor, expected: int | None = None) -> Any:
        return await _in_tx(
            engine, lambda conn: update_item(conn, key, change, expected, actor=actor)
        )

    with pytest.raises(ForbiddenItemError):
        await attempt(public, Actor(other))
    with pytest.raises(ItemNotFoundError):  # others' private items do not exist for them
        await attempt(private, Actor(other))
    with pytest.raises(ItemNotFoundError):
        await attempt(ItemKey(Source.REGULAR, 9999), Actor(owner))
    with pytest.raises(VersionConflictError) as conflict:
        await attempt(public, Actor(owner), version + 5)
    assert conflict.value.current == version
    with pytest.raises(InvalidContentError) as invalid:
        await _in_tx(
            engine,
            lambda conn: update_item(conn, public, ItemChanges(title=None, quality_score=-1), None),
        )
    assert {p.field for p in invalid.value.problems} == {"title", "quality_score"}
    with pytest.raises(InvalidContentError):
        await _in_tx(engine, lambda conn: update_item(conn, public, ItemChanges(), None))
    assert (await _row(engine, public)).version == version
    updated = await attempt(private, Actor(admin, is_admin=True))
    assert updated.title == "x"


# -- delete --------------------------------------------------------------------------------


async def test_delete_removes_rows_links_and_counts(engine: AsyncEngine, dataset: Dataset) -> None:
    owner = dataset.users[1]
    keys = [
        await _item_of(engine, creator=owner, private=False),
        await _item_of(engine, creator=owner, private=True),
    ]
    with pytest.raises(ForbiddenItemError):
        await _in_tx(engine, lambda conn: delete_items(conn, keys, actor=Actor(dataset.users[2])))
    with pytest.raises(VersionConflictError):
        await _in_tx(
            engine,
            lambda conn: delete_items(
                conn, keys, actor=Actor(owner), expected_versions={keys[0]: 99}
            ),
        )
    before = await _counts(engine)
    links = sum([len((await _row(engine, key)).tags) for key in keys])
    deleted = await _in_tx(engine, lambda conn: delete_items(conn, keys, actor=Actor(owner)))
    assert deleted == sorted(keys)
    after = await _counts(engine)
    assert after["content_items"] == before["content_items"] - 2
    assert after["content_tags"] == before["content_tags"] - links
    assert [await _row(engine, key) for key in keys] == [None, None]
    assert await integrity_problems(engine) == []


# -- retag batches -------------------------------------------------------------------------


async def test_retag_batch_collects_every_problem(engine: AsyncEngine, dataset: Dataset) -> None:
    owner, other = dataset.users[1], dataset.users[2]
    mine = await _item_of(engine, creator=owner, private=False)
    theirs_public = await _item_of(engine, creator=other, private=False)
    theirs_private = await _item_of(engine, creator=other, private=True)
    version = (await _row(engine, mine)).version
    requests = [
        RetagRequest(mine, set=("tag-1",), expected_version=version + 1),
        RetagRequest(theirs_public, add=("tag-2",)),
        RetagRequest(theirs_private, add=("tag-2",)),
        RetagRequest(ItemKey(Source.AUTO, 5), add=("nope",), remove=("tag-1", "never")),
        RetagRequest(ItemKey(Source.AUTO, 6), set=("tag-1",), add=("tag-2",)),
        RetagRequest(ItemKey(Source.AUTO, 7)),
        RetagRequest(mine, add=("tag-3",)),
    ]
    before = await _counts(engine)
    actor = Actor(owner)
    with pytest.raises(BatchRejectedError) as caught:
        await _in_tx(engine, lambda conn: retag_batch(conn, actor, requests))
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
    assert await _counts(engine) == before


async def test_retag_batch_applies_all_and_returns_versions(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    keys = [ItemKey(Source.AUTO, n) for n in (9, 3, 7)] + [ItemKey(Source.REGULAR, 2)]
    versions = {key: (await _row(engine, key)).version for key in keys}
    requests = [
        RetagRequest(keys[0], set=("tag-1", str(dataset.tags[2]))),
        RetagRequest(keys[1], add=("tag-9",)),
        RetagRequest(keys[2], remove=("tag-0",)),
        RetagRequest(keys[3], set=()),
    ]
    writes = await _in_tx(engine, lambda conn: retag_batch(conn, admin, requests))
    assert [w.item for w in writes] == keys
    assert all(w.version == versions[w.item] + 1 for w in writes)
    assert set(writes[0].tags) == {dataset.tags[1], dataset.tags[2]}
    assert dataset.tags[9] in writes[1].tags
    assert dataset.tags[0] not in writes[2].tags
    assert writes[3].tags == ()
    for write in writes:
        assert set((await _row(engine, write.item)).tags) == set(write.tags)
    assert await integrity_problems(engine) == []


async def test_retag_batch_replays_and_refuses_reused_keys(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    key = ItemKey(Source.AUTO, 4)
    request = RetagRequest(key, add=("tag-8",), idempotency_key="k1")
    first = await _in_tx(engine, lambda conn: retag_batch(conn, admin, [request]))
    again = await _in_tx(engine, lambda conn: retag_batch(conn, admin, [request]))
    assert not first[0].replayed
    assert again[0].replayed
    assert (again[0].item, again[0].version, again[0].tags) == (
        first[0].item,
        first[0].version,
        first[0].tags,
    )
    assert (await _row(engine, key)).version == first[0].version  # written once
    other = RetagRequest(key, add=("tag-7",), idempotency_key="k1")
    with pytest.raises(BatchRejectedError) as caught:
        await _in_tx(engine, lambda conn: retag_batch(conn, admin, [other]))
    assert isinstance(caught.value.problems[0][0], IdempotencyKeyReusedError)


async def test_opposite_order_batches_do_not_deadlock(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    admin = Actor(dataset.users[0], is_admin=True)
    keys = [ItemKey(Source.AUTO, n) for n in range(1, 21)]

    async def batch(order: Sequence[ItemKey], tag: str) -> None:
        requests = [RetagRequest(key, add=(tag,)) for key in order]
        await _in_tx(engine, lambda conn: retag_batch(conn, admin, requests))

    for round_ in range(5):
        await asyncio.gather(
            batch(keys, f"tag-{round_}"),
            batch(keys[::-1], f"tag-{round_ + 5}"),
            batch(keys[5:] + keys[:5], "tag-9"),
        )
    assert await integrity_problems(engine) == []


# -- transactions ----------------------------------------------------------------------------


async def test_transaction_sets_write_timeouts(engine: AsyncEngine) -> None:
    async def show(conn: AsyncConnection) -> tuple[str, str]:
        lock = (await conn.execute(text("SHOW lock_timeout"))).scalar_one()
        statement = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
        return lock, statement

    assert await write_transaction(engine, show) == ("1s", "5s")
    async with engine.connect() as conn:  # SET LOCAL: gone with the transaction
        assert (await conn.execute(text("SHOW lock_timeout"))).scalar_one() == "0"


async def test_sqlstate_is_found_on_sqlalchemy_errors(engine: AsyncEngine) -> None:
    async def fail(conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT 1/0"))

    with pytest.raises(DBAPIError) as caught:
        await write_transaction(engine, fail)
    assert sqlstate(caught.value) == "22012"  # division_by_zero: not retried
    assert caught.value.orig is not None
    assert getattr(caught.value.orig, "sqlstate", None) == "22012"


async def test_deadlocks_are_retried(engine: AsyncEngine, dataset: Dataset) -> None:
    """Two transactions lock two rows in opposite orders: PostgreSQL aborts one, which
    runs again and succeeds. (The lock timeout is raised above `deadlock_timeout`, 1 s by
    default, so the deadlock is detected before the lock wait times out.)"""
    attempts: list[str] = []
    both_locked_first = asyncio.Barrier(2)

    def crossing(first: int, second: int, name: str) -> Any:
        async def fn(conn: AsyncConnection) -> None:
            attempts.append(name)
            lock = "SELECT id FROM content_items WHERE id = :id FOR UPDATE"
            await conn.execute(text(lock), {"id": first})
            if len(attempts) <= 2:
                await both_locked_first.wait()
            await conn.execute(text(lock), {"id": second})

        return fn

    await asyncio.gather(
        write_transaction(engine, crossing(1, 2, "a"), lock_timeout_ms=10_000),
        write_transaction(engine, crossing(2, 1, "b"), lock_timeout_ms=10_000),
    )
    assert len(attempts) == 3  # one of the two ran twice


async def test_non_retryable_errors_are_not_retried(engine: AsyncEngine) -> None:
    calls = 0

    async def fail(conn: AsyncConnection) -> None:
        nonlocal calls
        calls += 1
        await conn.execute(text("SELECT CAST('x' AS int)"))

    with pytest.raises(DBAPIError):
        await write_transaction(engine, fail)
    assert calls == 1
