"""create_items, update_item and delete_items keep arrays, junction, sort keys and counts in
agreement, and check everything (existence, access, version, fields) before writing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.errors import (
    ForbiddenItemError,
    InvalidContentError,
    ItemNotFoundError,
    VersionConflictError,
)
from gallery_gql.gallery.writes.inputs import Actor, ItemChanges
from gallery_gql.gallery.writes.items import create_items, delete_items, update_item
from gallery_gql.gallery.writes.tag_refs import resolve_tag_refs
from tests.factories import Dataset
from tests.gallery.writes.content_rows import (
    in_tx,
    item_of,
    item_row,
    new_item,
    table_counts,
    tag_counts,
)
from tests.integrity import integrity_problems

# -- create --------------------------------------------------------------------------------


async def test_create_items_in_input_order_at_version_one(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    async with engine.connect() as conn:
        refs = frozenset(await resolve_tag_refs(conn, ["tag-1", "tag-9"]))
    items = [
        new_item(Source.AUTO, title="first", tags=refs),
        new_item(Source.REGULAR, title="second"),
        new_item(Source.AUTO, title="third", is_private=True, tags=refs, quality_score=0.7),
    ]
    before = await tag_counts(engine, dataset.tags[9], Source.AUTO)
    writes = await in_tx(engine, lambda conn: create_items(conn, dataset.users[1], items))
    assert [w.item.source for w in writes] == [Source.AUTO, Source.REGULAR, Source.AUTO]
    for write, item in zip(writes, items, strict=True):
        row = await item_row(engine, write.item)
        assert row.title == item.title
        assert row.version == write.version == 1
        assert set(row.tags) == {ref.id for ref in item.tags}
        assert row.path_thumbs_alt_res is None
    assert await tag_counts(engine, dataset.tags[9], Source.AUTO) == (
        before[0] + 2,
        before[1] + 1,
    )
    assert await integrity_problems(engine) == []


# -- update --------------------------------------------------------------------------------


async def test_update_copies_quality_to_the_junction_and_moves_privacy_counts(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    owner = dataset.users[1]
    key = await item_of(engine, creator=owner, private=False)
    before = await item_row(engine, key)
    tag = before.tags[0]
    counts = await tag_counts(engine, tag, key.source)
    changes = ItemChanges(quality_score=0.123, is_private=True, title="renamed", path_thumb=None)
    after = await in_tx(
        engine,
        lambda conn: update_item(conn, key, changes, before.version, actor=Actor(owner)),
    )
    assert (after.version, after.title, after.path_thumb) == (before.version + 1, "renamed", None)
    assert after.quality_score == 0.123
    assert after.is_private
    assert after.updated_at > before.updated_at
    assert after.prompt == before.prompt
    assert await tag_counts(engine, tag, key.source) == (counts[0], counts[1] + 1)
    assert await integrity_problems(engine) == []
    back = ItemChanges(is_private=False)
    await in_tx(engine, lambda conn: update_item(conn, key, back, None))
    assert await tag_counts(engine, tag, key.source) == counts
    assert await integrity_problems(engine) == []


async def test_update_checks_before_writing(engine: AsyncEngine, dataset: Dataset) -> None:
    owner, other, admin = dataset.users[1], dataset.users[2], dataset.users[0]
    public = await item_of(engine, creator=owner, private=False)
    private = await item_of(engine, creator=owner, private=True)
    version = (await item_row(engine, public)).version
    change = ItemChanges(title="x")

    async def attempt(key: ItemKey, actor: Actor, expected: int | None = None) -> Any:
        return await in_tx(
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
        await in_tx(
            engine,
            lambda conn: update_item(conn, public, ItemChanges(title=None, quality_score=-1), None),
        )
    assert {p.field for p in invalid.value.problems} == {"title", "quality_score"}
    with pytest.raises(InvalidContentError):
        await in_tx(engine, lambda conn: update_item(conn, public, ItemChanges(), None))
    assert (await item_row(engine, public)).version == version
    updated = await attempt(private, Actor(admin, is_admin=True))
    assert updated.title == "x"


# -- delete --------------------------------------------------------------------------------


async def test_delete_removes_rows_links_and_counts(engine: AsyncEngine, dataset: Dataset) -> None:
    owner = dataset.users[1]
    keys = [
        await item_of(engine, creator=owner, private=False),
        await item_of(engine, creator=owner, private=True),
    ]
    with pytest.raises(ForbiddenItemError):
        await in_tx(engine, lambda conn: delete_items(conn, keys, actor=Actor(dataset.users[2])))
    with pytest.raises(VersionConflictError):
        await in_tx(
            engine,
            lambda conn: delete_items(
                conn, keys, actor=Actor(owner), expected_versions={keys[0]: 99}
            ),
        )
    before = await table_counts(engine)
    links = sum([len((await item_row(engine, key)).tags) for key in keys])
    deleted = await in_tx(engine, lambda conn: delete_items(conn, keys, actor=Actor(owner)))
    assert deleted == sorted(keys)
    after = await table_counts(engine)
    assert after["content_items"] == before["content_items"] - 2
    assert after["content_tags"] == before["content_tags"] - links
    assert [await item_row(engine, key) for key in keys] == [None, None]
    assert await integrity_problems(engine) == []
