"""The edge probe's shortcut plan (`fetch.probe_plan`) against the general one
(`plan.plan_walk`): the same shape, strategy and statement parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.fetch import probe_plan
from gallery_gql.gallery.query.filters import ContentFilter, Position, Sort, TagMatch
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.gallery.query.shapes import Walk
from gallery_gql.gallery.query.tag_stats import TagStats

KEYS = range(1, 7)
VIEWER = UUID(int=7)
size = st.integers(0, 3_000) | st.integers(0, 1_200_000)
counts = st.tuples(size, size)


@st.composite
def cases(draw: st.DrawFn) -> tuple[ContentFilter, TagStats, Sort, Position, int]:
    tags = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True))
    exclude = draw(st.lists(st.sampled_from([k for k in KEYS if k not in tags]), max_size=2))
    flt = ContentFilter(
        tag_keys=tuple(tags),
        match=draw(st.sampled_from(TagMatch)),
        exclude_tag_keys=tuple(dict.fromkeys(exclude)),
        creator_id=draw(st.sampled_from([None, VIEWER])),
        viewer_id=draw(st.sampled_from([None, VIEWER])),
    )
    per_tag = draw(st.dictionaries(st.sampled_from(KEYS), counts))
    known = draw(st.sets(st.sampled_from(KEYS)))
    stats = TagStats(
        {k: {Source.REGULAR: r, Source.AUTO: a} for k, (r, a) in per_tag.items()},
        {Source.REGULAR: 64_000, Source.AUTO: 1_100_000},
        {k: UUID(int=k) for k in known},
    )
    sort = draw(st.sampled_from(Sort))
    if sort is Sort.TOP_RATED:
        value: object = draw(st.floats(0, 1))
    else:
        value = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**6)))
    bound = Position(value, draw(st.sampled_from(Source)), draw(st.integers(1, 10**6)))  # type: ignore[arg-type]
    return flt, stats, sort, bound, draw(st.integers(1, 101))


@settings(max_examples=300, deadline=None)
@given(cases(), st.booleans())
def test_the_probe_plan_is_the_general_plan(
    case: tuple[ContentFilter, TagStats, Sort, Position, int], backward: bool
) -> None:
    flt, stats, sort, bound, limit = case
    descending = sort.descending != backward
    main = plan_walk(flt, Walk(sort, descending, bound, limit), stats, "page")
    back = Walk(sort, not descending, bound, 1, include_bound=True)
    general = plan_walk(flt, back, stats, "probe")
    made = probe_plan(main, flt, back, stats)
    assert made.shape == general.shape
    assert made.strategy == general.strategy
    assert {**main.params, **made.params} == {**main.params, **general.params}
