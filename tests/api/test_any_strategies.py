"""Filters with two SQL shapes, each forced in turn: paging (forward, backward, deep)
equals the plain-Python model (where the planner picks each: tests/gallery/query/test_plan.py).

- ANY of several tags: one junction walk per tag, merged; or one walk of the item table
  testing each row's tag array.
- Tags by rating (TOP_RATED / LOWEST_RATED; the junction holds no quality): a walk of the
  item table's quality index testing the tags; or every matching item found through
  the tag-array GIN index, then sorted.
- ALL of several tags by date: a walk of the rarest tag's postings probing the others,
  to the end or capped (then the matching items through the tag-array GIN index), or
  those matching items at once.
- Whatever the pair estimates say (arbitrary ones, or none), the planner's choices among
  these page like the model.

The small test gallery's tags are rare enough to be read as one matching set (its own
model tests: tests/gallery/query/test_fetch.py); here that rule is off."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gallery_gql.auth import mint_token
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import plan, plan_rules
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


@pytest.fixture(autouse=True)
def no_matching_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_rules, "MATCHING_SET_MAX_US", -1.0)


@pytest.fixture(params=["tag-walk-merge", "item-walk-overlap"])
def any_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    rows = 0.0 if request.param == "item-walk-overlap" else math.inf
    monkeypatch.setattr(plan_rules, "rows_to_fill", lambda *_: rows)
    return str(request.param)


@pytest.fixture(params=["tag-array-bitmap", "item-walk-rated", "item-walk-rated, short"])
def rated_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    rows = 0.0 if request.param.startswith("item-walk-rated") else math.inf
    monkeypatch.setattr(plan_rules, "rated_rows_to_fill", lambda *_: rows)
    if request.param.endswith("short"):  # the walk often falls short: the bitmap answers
        monkeypatch.setattr(plan, "rated_all_walk_cap", lambda *_: 6)
    # ANY of several tags by rating goes by the ANY rule: force it the same way.
    monkeypatch.setattr(plan_rules, "rows_to_fill", lambda *_: rows)
    return str(request.param)


@pytest.fixture(
    params=[
        "rarest-tag-walk",
        "rarest-tag-walk-capped",
        "rarest-tag-walk-capped, short",
        "rarest-tag-walk-capped, one tag probed first",
        "rarest-tag-walk-capped, short, one tag probed first",
        "tag-array-bitmap",
    ]
)
def all_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # Capped at more postings than any tag has, the walk fills every page but the last,
    # where the bitmap answers; capped at 2, the bitmap answers nearly every page (the
    # caps exactly these: not shortened for tags that seldom meet).
    shape, _, split = request.param.partition(", one tag probed first")
    caps = {"rarest-tag-walk": None, "rarest-tag-walk-capped": 10**6}
    cap = caps.get(shape, 2)
    monkeypatch.setattr(plan, "probes_first", lambda *_: bool(split))
    monkeypatch.setattr(plan, "all_walk_cap", lambda *_: cap)
    monkeypatch.setattr(plan, "all_walk_fills", lambda *_: True)
    bitmap = request.param == "tag-array-bitmap"
    monkeypatch.setattr(plan, "all_reads_bitmap", lambda *_: bitmap)
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


def _of_tags(data: st.DataObject, gallery: Gallery, match: str, most: int) -> dict[str, Any]:
    """A drawn request for `match` of 2 to `most` of the gallery's tags."""
    dataset, _ = gallery
    r: dict[str, Any] = data.draw(requests(dataset))
    r["match"] = match
    r["tags"] = data.draw(
        st.lists(st.sampled_from(dataset.tags), min_size=2, max_size=most, unique=True)
    )
    return r


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
    await _pages_like_the_model(gql, gallery, settings, _of_tags(data, gallery, "ANY", 5))


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
    # ME walks the creator's items; OTHERS is not given with collections
    r["scope"] = data.draw(
        st.sampled_from([None, "OTHERS"] if r["collections"] is None else [None])
    )
    r["tags"] = data.draw(
        st.lists(st.sampled_from(dataset.tags), min_size=2, max_size=4, unique=True)
    )
    await _pages_like_the_model(gql, gallery, settings, r)


@_EXAMPLES
@given(data=st.data(), seed=st.integers(0, 2**32))
async def test_any_pair_estimates_page_like_the_model(
    data: st.DataObject,
    seed: int,
    gql: GraphQLClient,
    gallery: Gallery,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pair estimates only steer the shape: arbitrary ones (unknown, never met, or up to
    twice the tags' items) leave every page as the model has it."""

    def together(stats: TagStats, a: int, b: int, source: Source) -> int | None:
        draw = random.Random(hash((seed, min(a, b), max(a, b), source)))
        if draw.random() < 0.2:
            return None
        return draw.randrange(2 * max(stats.items(a, source), 1) + 1)

    monkeypatch.setattr(TagStats, "together", together)
    await _pages_like_the_model(gql, gallery, settings, _of_tags(data, gallery, "ALL", 4))
