"""The planner's memo (`plan_memo.PlanMemo`) against the planner it keeps
(`plan.plan_walk_fresh`): over random sequences of requests drawn from a few filters,
walks and statistics (counts, sizes, UUIDs known or not, pair estimates or none, changing
between calls), every answer is the fresh plan: shape, parameters, strategy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import combinations
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import (
    Collection,
    ContentFilter,
    Position,
    Sort,
    TagMatch,
)
from gallery_gql.gallery.query.pair_counts import NO_PAIRS, PairCounts
from gallery_gql.gallery.query.plan import plan_walk_fresh
from gallery_gql.gallery.query.plan_memo import PlanMemo
from gallery_gql.gallery.query.shapes import Walk, WalkPlan
from gallery_gql.gallery.query.tag_stats import TagStats

KEYS = range(1, 8)
PEOPLE = [UUID(int=7), UUID(int=8)]
SIZES = [None, 5_000, 64_000, 1_100_000]
COLLECTIONS = [
    frozenset(),
    frozenset({Collection.COMMUNITY_AUTO}),
    frozenset({Collection.USER_REGULAR, Collection.COMMUNITY_AUTO}),
    frozenset(Collection),
]

Request = tuple[ContentFilter, Walk, TagStats, str]

counts = st.one_of(
    st.sampled_from([0, 40, 300, 3_000, 30_000, 150_000, 600_000]), st.integers(0, 1_200_000)
)
"""Counts across the magnitudes the rules tell apart, most of them far from 0."""


@st.composite
def filters(draw: st.DrawFn) -> ContentFilter:
    tags = draw(st.lists(st.sampled_from(KEYS), max_size=7, unique=True))
    exclude = draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True))
    # Mostly no creator and no collections: one creator's items are walked whatever the counts.
    collections = draw(st.sampled_from([None, None, None, *COLLECTIONS]))
    return ContentFilter(
        tag_keys=tuple(tags),
        match=draw(st.sampled_from(TagMatch)),
        exclude_tag_keys=tuple(exclude),
        sources=draw(st.sampled_from([(Source.REGULAR, Source.AUTO), (Source.AUTO,)])),
        creator_id=draw(st.sampled_from([None, None, None, *PEOPLE])),
        exclude_creator_id=draw(st.sampled_from([None, PEOPLE[1]])),
        search=draw(st.sampled_from([None, "red fox"])),
        collections=collections,
        viewer_id=draw(st.sampled_from([None, *PEOPLE])),
    )


@st.composite
def pair_counts(draw: st.DrawFn) -> PairCounts:
    """Estimates covering every tag in some sources (or some tags), each pair's count."""
    every = frozenset(KEYS)
    covered = {
        source: draw(
            st.one_of(st.just(every), st.just(every), st.frozensets(st.sampled_from(KEYS)))
        )
        for source in draw(st.sets(st.sampled_from(Source), min_size=1))
    }
    together = {
        (source, a, b): draw(counts)
        for source, keys in covered.items()
        for a, b in combinations(sorted(keys), 2)
    }
    return PairCounts(covered, together)


@st.composite
def tag_stats(draw: st.DrawFn, pairs: list[PairCounts]) -> TagStats:
    """Counts of some tags in some sources (absent ones count 0), UUIDs of some tags,
    and one of a few pair estimates (shared, as a worker's are between requests)."""
    per_tag = {
        key: {source: draw(counts) for source in Source if draw(st.integers(0, 9))}
        for key in KEYS
        if draw(st.integers(0, 9))
    }
    known = draw(st.sets(st.sampled_from(KEYS)))
    run = draw(st.integers(0, 3))  # UUIDs differ between statistics: always the request's
    return TagStats(
        per_tag,
        {source: size for source in Source if (size := draw(st.sampled_from(SIZES)))},
        {key: UUID(int=key * 10 + run) for key in known},
        draw(st.sampled_from(pairs)),
    )


@st.composite
def walks(draw: st.DrawFn) -> Walk:
    sort = draw(st.sampled_from(Sort))
    bound = draw(st.one_of(st.none(), _positions(sort)))
    return Walk(
        sort,
        draw(st.booleans()),
        bound,
        draw(st.sampled_from([1, 26, 101])),
        draw(st.booleans()),
    )


@st.composite
def requests(draw: st.DrawFn) -> list[Request]:
    """A sequence of requests, each an earlier one with one part changed: what the
    planner reads (a count, a source's size, a tag's UUID known or not, the pair
    estimates, the walk's fields, the filter, the name), or what it copies (the viewer,
    the bound's value): planned before, it must not be answered as before."""
    pairs = [NO_PAIRS, *draw(st.lists(pair_counts(), min_size=2, max_size=3))]
    made = [(draw(filters()), draw(walks()), draw(tag_stats(pairs)), draw(st.sampled_from(NAMES)))]
    for _ in range(draw(st.integers(1, 15))):
        flt, walk, stats, name = draw(st.sampled_from(made))
        change = draw(st.sampled_from(CHANGES))
        if change == "filter":
            flt = draw(filters())
        elif change == "viewer":
            flt = replace(flt, viewer_id=draw(st.sampled_from([None, *PEOPLE])))
        elif change == "walk":
            walk = draw(walks())
        elif change == "limit":
            walk = replace(walk, limit=draw(st.sampled_from([1, 26, 101])))
        elif change == "bound":
            walk = replace(walk, bound=draw(st.one_of(st.none(), _positions(walk.sort))))
        elif change == "include bound":
            walk = replace(walk, include_bound=not walk.include_bound)
        elif change == "descending":
            walk = replace(walk, descending=not walk.descending)
        elif change == "name":
            name = draw(st.sampled_from(NAMES))
        else:
            stats = draw(_changed(stats, change, pairs))
        made.append((flt, walk, stats, name))
    return made


NAMES = ["page", "probe", "count"]
CHANGES = [
    "filter",
    "viewer",
    "walk",
    "limit",
    "bound",
    "include bound",
    "descending",
    "name",
    "count",
    "size",
    "uuid",
    "pairs",
    "stats",
]


@st.composite
def _changed(draw: st.DrawFn, stats: TagStats, change: str, pairs: list[PairCounts]) -> TagStats:
    if change == "count":
        key, source = draw(st.sampled_from(KEYS)), draw(st.sampled_from(Source))
        per_tag = {k: dict(v) for k, v in stats.tags.items()}
        per_tag.setdefault(key, {})[source] = draw(counts)
        return replace(stats, tags=per_tag)
    if change == "size":
        size = draw(st.sampled_from(SIZES))
        sizes = {**stats.source_items, draw(st.sampled_from(Source)): size}
        return replace(stats, source_items={s: n for s, n in sizes.items() if n is not None})
    if change == "uuid":
        key = draw(st.sampled_from(KEYS))
        ids = {k: v for k, v in stats.ids.items() if k != key}
        if draw(st.booleans()):
            ids[key] = UUID(int=key * 10 + draw(st.integers(0, 3)))
        return replace(stats, ids=ids)
    if change == "pairs":
        # Another estimate, one read again (equal, another object), or the same.
        other = draw(st.sampled_from([p for p in pairs if p is not stats.pairs]))
        if draw(st.integers(0, 3)) == 0:
            other = PairCounts(dict(other.covered), dict(other.together))
        return replace(stats, pairs=other)
    return draw(tag_stats(pairs))


def _positions(sort: Sort) -> st.SearchStrategy[Position]:
    values: st.SearchStrategy[Any] = (
        st.floats(0, 1)
        if sort.column == "quality_score"
        else st.datetimes(min_value=datetime(2026, 1, 1), timezones=st.just(UTC))
    )
    return st.builds(Position, values, st.sampled_from(Source), st.integers(1, 9))


def _same(made: WalkPlan, fresh: WalkPlan) -> None:
    assert made.shape == fresh.shape
    assert made.params == fresh.params
    assert made.strategy == fresh.strategy


@settings(max_examples=400, deadline=None)
@given(requests(), st.sampled_from([2, 3, 4, 100]))
def test_the_memo_plans_what_the_planner_plans(calls: list[Request], size: int) -> None:
    memo = PlanMemo(plan_walk_fresh, size)
    for flt, walk, stats, name in calls:
        made = memo(flt, walk, stats, name)
        _same(made, plan_walk_fresh(flt, walk, stats, name))
        # Callers add to the parameters: no later answer may see it.
        made.params["added"] = True
        for value in made.params.values():
            if isinstance(value, list):
                value.append(-1)
        assert len(memo) <= size


def _counting() -> tuple[PlanMemo, list[str]]:
    planned: list[str] = []

    def planner(flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> WalkPlan:
        planned.append(name)
        return plan_walk_fresh(flt, walk, stats, name)

    return PlanMemo(planner, 2), planned


def _stats(items: int) -> TagStats:
    return TagStats(
        {1: {Source.AUTO: items}, 2: {Source.AUTO: 50_000}},
        {Source.AUTO: 1_100_000},
        {1: UUID(int=1), 2: UUID(int=2)},
    )


def test_an_equal_request_is_planned_once_and_new_counts_plan_again() -> None:
    memo, planned = _counting()
    walk = Walk(Sort.NEWEST, True, None, 26)
    flt = ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, sources=(Source.AUTO,))
    memo(flt, walk, _stats(90), "page")
    # A new filter, walk and statistics, equal to the first: the request of another page.
    again = ContentFilter(tag_keys=(2, 1), match=TagMatch.ALL, sources=(Source.AUTO,))
    memo(again, Walk(Sort.NEWEST, True, None, 26), _stats(90), "page")
    assert planned == ["page"]
    memo(flt, walk, _stats(91), "page")
    memo(flt, walk, _stats(90), "probe")
    assert planned == ["page", "page", "probe"]
    memo(flt, walk, _stats(90), "page")  # the least recently used, dropped
    assert planned == ["page", "page", "probe", "page"]


@st.composite
def tag_filters(draw: st.DrawFn) -> ContentFilter:
    """Two to five tags, no creator: where the counts, sizes and pairs decide."""
    return ContentFilter(
        tag_keys=tuple(draw(st.lists(st.sampled_from(KEYS), min_size=2, max_size=5, unique=True))),
        match=draw(st.sampled_from(TagMatch)),
        sources=draw(st.sampled_from([(Source.REGULAR, Source.AUTO), (Source.AUTO,)])),
    )


@settings(max_examples=1_000, deadline=None)
@given(st.data(), tag_filters(), walks(), st.sampled_from(["count", "size", "uuid", "pairs"]))
def test_changed_statistics_are_planned_afresh(
    data: st.DataObject, flt: ContentFilter, walk: Walk, change: str
) -> None:
    pairs = [NO_PAIRS, *data.draw(st.lists(pair_counts(), min_size=2, max_size=2))]
    stats = data.draw(tag_stats(pairs))
    changed = data.draw(_changed(stats, change, pairs))
    memo = PlanMemo(plan_walk_fresh)
    memo(flt, walk, stats, "page")
    _same(memo(flt, walk, changed, "page"), plan_walk_fresh(flt, walk, changed, "page"))
