"""The tag write path keeps the array, the junction and the counts in agreement."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.writes.errors import TooManyTagsError, UnknownTagsError
from gallery_gql.gallery.writes.limits import MAX_TAGS_PER_ITEM
from gallery_gql.gallery.writes.tag_refs import TagRef, resolve_tag_refs
from gallery_gql.gallery.writes.tagging import Retag
from tests.factories import Dataset, retag_locked
from tests.integrity import integrity_problems


async def _refs(engine: AsyncEngine, dataset: Dataset, *indexes: int) -> frozenset[TagRef]:
    async with engine.connect() as conn:
        refs = await resolve_tag_refs(conn, [str(dataset.tags[i]) for i in indexes])
    return frozenset(refs)


async def test_resolves_ids_and_names_and_reports_every_unknown(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    tag = dataset.tags[2]
    async with engine.connect() as conn:
        refs = await resolve_tag_refs(conn, [str(tag), dataset.tag_names[tag], str(tag)])
        assert [ref.id for ref in refs] == [tag]
        with pytest.raises(UnknownTagsError) as caught:
            await resolve_tag_refs(conn, ["nope", str(tag), "00000000-0000-0000-0000-00000000dead"])
    assert caught.value.values == ["nope", "00000000-0000-0000-0000-00000000dead"]


async def test_random_retags_keep_everything_consistent(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    rng = random.Random(3)
    keys = [ItemKey(Source.REGULAR, i) for i in range(1, 21)]
    keys += [ItemKey(Source.AUTO, i) for i in range(1, 31)]
    for _ in range(40):
        changes = []
        for key in rng.sample(keys, 5):
            picks = rng.sample(range(len(dataset.tags)), 3)
            refs = await _refs(engine, dataset, *picks)
            mode = rng.choice(["set", "add", "remove"])
            changes.append(Retag(key, **{mode: refs}))  # type: ignore[arg-type]
        async with engine.begin() as conn:
            result = await retag_locked(conn, changes)
        assert set(result) == {change.item for change in changes}
    assert await integrity_problems(engine) == []


async def test_changes_apply_in_order_and_bump_the_version(
    engine: AsyncEngine, dataset: Dataset
) -> None:
    key = ItemKey(Source.AUTO, 1)
    a, b = await _refs(engine, dataset, 0), await _refs(engine, dataset, 1)
    async with engine.begin() as conn:
        before = await conn.scalar(text("SELECT version FROM content_items_auto WHERE id = 1"))
        result = await retag_locked(
            conn, [Retag(key, set=a), Retag(key, add=b), Retag(key, remove=a)]
        )
    assert result[key].tags == tuple(ref.id for ref in b)
    assert result[key].version == before + 1


async def test_rejects_before_writing(engine: AsyncEngine, dataset: Dataset) -> None:
    key = ItemKey(Source.REGULAR, 1)
    async with engine.begin() as conn:
        too_many = frozenset(TagRef(n, dataset.tags[0]) for n in range(MAX_TAGS_PER_ITEM + 1))
        with pytest.raises(TooManyTagsError):
            await retag_locked(conn, [Retag(key, set=too_many)])
