"""`live_match.matching_items` (the read path's conditions on written items, many filters
in one statement) selects exactly what the plain-Python model does, for every filter
Hypothesis draws, several filters at a time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.query.filters import Collection, ContentFilter, TagMatch
from gallery_gql.gallery.query.live_match import FILTERS_PER_STATEMENT, matching_items
from tests.api.test_content_items_model import _model_query, requests
from tests.factories import Dataset, build_gallery
from tests.model import ModelItem, expected, load_items


class Gallery(tuple[Dataset, list[ModelItem], dict[Any, int]]):
    def __repr__(self) -> str:
        return f"Gallery({len(self[1])} items)"


@pytest.fixture
async def gallery(engine: AsyncEngine) -> Gallery:
    dataset = await build_gallery(engine)
    async with engine.connect() as conn:
        keys = {
            row.id: row.tag_key for row in await conn.execute(text("SELECT id, tag_key FROM tags"))
        }
    return Gallery((dataset, await load_items(engine), keys))


def _filter(r: dict[str, Any], tag_keys: dict[Any, int]) -> ContentFilter:
    creator = exclude_creator = None
    if r["scope"] == "ME":
        creator = r["viewer"]
    elif r["scope"] == "OTHERS":
        exclude_creator = r["viewer"]
    elif r["scope"] == "USER":
        creator = r["user"]
    return ContentFilter(
        tag_keys=tuple(tag_keys[tag] for tag in r["tags"]),
        match=TagMatch(r["match"]),
        exclude_tag_keys=tuple(tag_keys[tag] for tag in r["exclude"]),
        sources=tuple(Source[s] for s in r["sources"]) if r["sources"] else tuple(Source),
        creator_id=creator,
        exclude_creator_id=exclude_creator,
        search=r["search"],
        collections=(
            frozenset(Collection(c) for c in r["collections"])
            if r["collections"] is not None
            else None
        ),
        viewer_id=r["viewer"],
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_matching_items_equals_the_model(
    data: st.DataObject, engine: AsyncEngine, gallery: Gallery
) -> None:
    dataset, items, tag_keys = gallery
    drawn = data.draw(st.lists(requests(dataset), min_size=1, max_size=4))
    for r in drawn:
        if r["scope"] in ("ME", "OTHERS") and r["viewer"] is None:
            r["viewer"] = dataset.users[0]
    # A sample of the items as the written ones (all of them, or a few).
    every = [ItemKey(Source[item.source], item.id) for item in items]
    written = data.draw(st.sampled_from([every, every[::7], every[3:9]]))
    async with engine.connect() as conn:
        found = await matching_items(conn, [_filter(r, tag_keys) for r in drawn], written)
    in_written = {(key.source.name, key.id) for key in written}
    for r, got in zip(drawn, found, strict=True):
        want = {key for key in expected(items, _model_query(r)) if key in in_written}
        assert {(key.source.name, key.id) for key in got} == want, r


async def test_filters_beyond_one_statement_each_get_their_own_answer(
    engine: AsyncEngine, gallery: Gallery
) -> None:
    dataset, items, tag_keys = gallery
    every = [ItemKey(Source[item.source], item.id) for item in items]
    filters = [
        ContentFilter(tag_keys=(tag_keys[dataset.tags[n % 9]],), viewer_id=dataset.users[n % 6])
        for n in range(FILTERS_PER_STATEMENT * 2 + 3)
    ]
    async with engine.connect() as conn:
        found = await matching_items(conn, filters, every)
    for flt, got in zip(filters, found, strict=True):
        tag = next(t for t, k in tag_keys.items() if k == flt.tag_keys[0])
        want = {
            ItemKey(Source[item.source], item.id)
            for item in items
            if tag in item.tags and (not item.is_private or item.creator_id == flt.viewer_id)
        }
        assert got == want
