"""Filters with two SQL shapes, each forced in turn: paging (forward, backward, deep)
equals the plain-Python model, and the planner picks each shape where it is cheaper.

- ANY of several tags: one junction walk per tag, merged; or one walk of the item table
  testing each row's tag array.
- Tags by rating (TOP_RATED / LOWEST_RATED; the junction holds no quality): a walk of the
  item table's quality index testing the tags; or every matching item found through
  the tag-array GIN index, then sorted.
- ALL of several tags by date: a walk of the rarest tag's postings probing the others,
  to the end or capped (then the matching items through the tag-array GIN index)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gallery_gql.auth import mint_token
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import strategies
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch
from gallery_gql.gallery.query.tag_stats import TagStats
from gallery_gql.settings import Settings
from tests.api.test_content_items_model import (
    Gallery,
    _model_query,
    _variables,
    _walk,
    gallery,
    requests,
)
from tests.conftest import GraphQLClient
from tests.model import expected

__all__ = ["gallery"]  # the fixture, re-used


@pytest.fixture(params=["tag-walk-merge", "item-walk-overlap"])
def any_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    rows = 0.0 if request.param == "item-walk-overlap" else math.inf
    monkeypatch.setattr(strategies, "rows_to_fill", lambda *_: rows)
    return str(request.param)


@pytest.fixture(params=["tag-array-bitmap", "item-walk-rated", "item-walk-rated, short"])
def rated_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    rows = 0.0 if request.param.startswith("item-walk-rated") else math.inf
    monkeypatch.setattr(strategies, "rated_rows_to_fill", lambda *_: rows)
    if request.param.endswith("short"):  # the walk often falls short: the bitmap answers
        monkeypatch.setattr(strategies, "RATED_ALL_WALK_CAP", 6)
    # ANY of several tags by rating goes by the ANY rule: force it the same way.
    monkeypatch.setattr(strategies, "rows_to_fill", lambda *_: rows)
    return str(request.param)


@pytest.fixture(
    params=["rarest-tag-walk", "rarest-tag-walk-capped", "rarest-tag-walk-capped, short"]
)
def all_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # Capped at more postings than any tag has, the walk fills every page but the last,
    # where the bitmap answers; capped at 2, the bitmap answers nearly every page.
    caps = {"rarest-tag-walk": None, "rarest-tag-walk-capped": 10**6}
    cap = caps.get(request.param, 2)
    monkeypatch.setattr(strategies, "all_walk_cap", lambda *_: cap)
    return str(request.param)


async def _pages_like_the_model(
    gql: GraphQLClient, gallery: Gallery, settings: Settings, r: dict[str, Any]
) -> None:
    dataset, items = gallery
    if r["scope"] in ("ME", "OTHERS") and r["viewer"] is None:
        r["viewer"] = dataset.users[0]
    token = mint_token(r["viewer"], settings) if r["viewer"] else None
    want = expected(items, _model_query(r))
    bound = len(items) // r["size"] + 3
    for backward in (False, True):
        assert await _walk(gql, _variables(r), token, r["size"], backward, bound) == want


_EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_EXAMPLES
@given(data=st.data())
async def test_any_shapes_page_like_the_model(
    data: st.DataObject, gql: GraphQLClient, gallery: Gallery, settings: Settings, any_shape: str
) -> None:
    dataset, _ = gallery
    r: dict[str, Any] = data.draw(requests(dataset))
    r["match"] = "ANY"
    r["tags"] = data.draw(
        st.lists(st.sampled_from(dataset.tags), min_size=2, max_size=5, unique=True)
    )
    await _pages_like_the_model(gql, gallery, settings, r)


@_EXAMPLES
@given(data=st.data())
async def test_rated_shapes_page_like_the_model(
    data: st.DataObject, gql: GraphQLClient, gallery: Gallery, settings: Settings, rated_shape: str
) -> None:
    dataset, _ = gallery
    r: dict[str, Any] = data.draw(requests(dataset))
    r["sort"] = data.draw(st.sampled_from(["TOP_RATED", "LOWEST_RATED"]))
    r["tags"] = data.draw(
        st.lists(st.sampled_from(dataset.tags), min_size=1, max_size=3, unique=True)
    )
    await _pages_like_the_model(gql, gallery, settings, r)


@_EXAMPLES
@given(data=st.data())
async def test_all_shapes_page_like_the_model(
    data: st.DataObject, gql: GraphQLClient, gallery: Gallery, settings: Settings, all_shape: str
) -> None:
    dataset, _ = gallery
    r: dict[str, Any] = data.draw(requests(dataset))
    r["sort"] = data.draw(st.sampled_from(["NEWEST", "OLDEST"]))
    r["match"] = "ALL"
    r["scope"] = data.draw(st.sampled_from([None, "OTHERS"]))  # ME walks the creator's items
    r["tags"] = data.draw(
        st.lists(st.sampled_from(dataset.tags), min_size=2, max_size=4, unique=True)
    )
    await _pages_like_the_model(gql, gallery, settings, r)


def test_the_planner_caps_all_walks_only_where_the_bitmap_is_cheaper() -> None:
    sizes = {Source.AUTO: 1_100_000}
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(Source.AUTO,))
    five = ContentFilter(tag_keys=(1, 2, 3, 4, 5), match=TagMatch.ALL, sources=(Source.AUTO,))
    long_tail = TagStats({k: {Source.AUTO: 58_000} for k in range(1, 6)}, sizes)
    small = TagStats({k: {Source.AUTO: 4_000} for k in range(1, 6)}, sizes)
    one_rare = TagStats({1: {Source.AUTO: 90}, 2: {Source.AUTO: 900_000}}, sizes)
    cap = strategies.all_walk_cap(five, Source.AUTO, long_tail)
    # the bitmap reads 5 x 58k entries at 0.025 us (7.3 ms); a posting and its 4 probes
    # cost 5 us: the walk reads at most 1,450 postings, then the bitmap answers
    assert cap == 1_450
    assert strategies.strategy_name(five, long_tail, 26) == "rarest-tag-walk-capped"
    # a walk of at most the rarest tag's 90 postings needs no cap
    assert strategies.all_walk_cap(both, Source.AUTO, one_rare) is None
    assert strategies.strategy_name(both, one_rare, 26) == "rarest-tag-walk"
    assert strategies.all_walk_cap(five, Source.AUTO, small) == strategies.ALL_WALK_MIN_CAP
    one = ContentFilter(tag_keys=(1,), match=TagMatch.ALL, sources=(Source.AUTO,))
    assert strategies.all_walk_cap(one, Source.AUTO, long_tail) is None
    any_of = ContentFilter(tag_keys=(1, 2), match=TagMatch.ANY, sources=(Source.AUTO,))
    assert strategies.all_walk_cap(any_of, Source.AUTO, long_tail) is None


def test_the_planner_walks_items_only_when_a_page_fills_quickly() -> None:
    flt = ContentFilter(tag_keys=(1, 2, 3), match=TagMatch.ANY, sources=(Source.AUTO,))
    sizes = {Source.AUTO: 1_000_000}
    common = TagStats({1: {Source.AUTO: 600_000}, 2: {Source.AUTO: 10}}, sizes)
    rare = TagStats({1: {Source.AUTO: 900}, 2: {Source.AUTO: 10}}, sizes)
    unknown_size = TagStats({1: {Source.AUTO: 600_000}})
    assert strategies.walks_items_for_any(flt, Source.AUTO, common, 26)
    assert strategies.strategy_name(flt, common, 26) == "item-walk-overlap"
    assert not strategies.walks_items_for_any(flt, Source.AUTO, rare, 26)
    assert strategies.strategy_name(flt, rare, 26) == "tag-walk-merge"
    assert not strategies.walks_items_for_any(flt, Source.AUTO, unknown_size, 26)
    all_of = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(Source.AUTO,))
    assert not strategies.walks_items_for_any(all_of, Source.AUTO, common, 26)


def test_the_planner_walks_items_by_rating_only_for_common_tags() -> None:
    sizes = {Source.AUTO: 1_000_000}
    common = TagStats({1: {Source.AUTO: 600_000}, 2: {Source.AUTO: 300_000}}, sizes)
    rare = TagStats({1: {Source.AUTO: 900}, 2: {Source.AUTO: 600_000}}, sizes)
    unknown_size = TagStats({1: {Source.AUTO: 600_000}})
    one = ContentFilter(tag_keys=(1,), sources=(Source.AUTO,))
    both = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(Source.AUTO,))
    top = Sort.TOP_RATED
    assert strategies.walks_items_for_rating(one, top, Source.AUTO, common, 26)
    assert strategies.strategy_name(one, common, 26, top) == "item-walk-rated"
    assert strategies.walks_items_for_rating(both, Sort.LOWEST_RATED, Source.AUTO, common, 26)
    # ALL goes by its rarest tag, however common the others
    assert not strategies.walks_items_for_rating(both, top, Source.AUTO, rare, 26)
    assert strategies.strategy_name(both, rare, 26, top) == "tag-array-bitmap"
    assert not strategies.walks_items_for_rating(one, top, Source.AUTO, unknown_size, 26)
    # by date the junction walks stay
    assert not strategies.walks_items_for_rating(one, Sort.NEWEST, Source.AUTO, common, 26)
    assert strategies.strategy_name(one, common, 26) == "tag-walk-merge"
