"""Page statements are templates: one statement object per shape, every value a named
parameter the plan supplies but the limits, written in; which are planned once per session.
(That the rows are right is the model tests' job.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast
from uuid import uuid4

from sqlalchemy import ClauseElement
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.compiler import SQLCompiler

from gallery_gql.db.raw import Plan
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import (
    Collection,
    ContentFilter,
    Position,
    Sort,
    TagMatch,
)
from gallery_gql.gallery.query.matching_sql import matching_set_statement
from gallery_gql.gallery.query.plan import plan_walk
from gallery_gql.gallery.query.shapes import BranchKind, TagTest, Walk, WalkPlan
from gallery_gql.gallery.query.sql import (
    count_statement,
    page_statement,
    walk_statement,
    walks_plan,
    whole_item_columns,
)
from gallery_gql.gallery.query.tag_stats import TagStats

STATS = TagStats(
    tags={k: {Source.REGULAR: 10 * k, Source.AUTO: 20 * k} for k in range(1, 9)},
    source_items={Source.REGULAR: 1_000, Source.AUTO: 2_000},
)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _plan(flt: ContentFilter, bound: Position | None = None, limit: int = 26) -> WalkPlan:
    return plan_walk(flt, Walk(Sort.NEWEST, True, bound, limit), STATS, "page")


def test_values_do_not_change_the_statement() -> None:
    first = _plan(
        ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL, viewer_id=uuid4()),
        Position(NOW, Source.AUTO, 7),
    )
    second = _plan(
        ContentFilter(tag_keys=(3, 4), match=TagMatch.ALL, viewer_id=uuid4()),
        Position(NOW.replace(year=2025), Source.AUTO, 99),
    )
    assert first.shape == second.shape
    assert first.params != second.params
    assert walk_statement(first.shape) is walk_statement(second.shape)
    assert page_statement(first.shape, None, whole_item_columns(False)) is page_statement(
        second.shape, None, whole_item_columns(False)
    )


def test_what_the_sql_looks_like_changes_the_shape() -> None:
    base = ContentFilter(tag_keys=(5,))
    variants = [
        _plan(base),
        _plan(ContentFilter(tag_keys=(5,), viewer_id=uuid4())),
        _plan(ContentFilter(tag_keys=(5,), exclude_tag_keys=(6,))),
        _plan(ContentFilter(tag_keys=(5,), search="cat")),
        _plan(ContentFilter(tag_keys=(5, 6))),  # ANY of two: a second branch per source
        _plan(ContentFilter(tag_keys=(5,), sources=(Source.AUTO,))),
        _plan(base, Position(NOW, Source.REGULAR, 1)),  # the bound's source picks comparisons
        _plan(base, Position(NOW, Source.AUTO, 1)),
        _plan(base, limit=101),  # the limit is written into the SQL: a generic plan sees it
    ]
    assert len({plan.shape for plan in variants}) == len(variants)


def test_every_parameter_of_the_statement_is_planned() -> None:
    """Across the shapes: item, postings (ALL capped too) and creator walks by date; by
    rating the item walk (common tags, ALL capped) and the tag-array bitmap (rare tags),
    with and without the tags' UUIDs known."""
    filters = [
        ContentFilter(),
        ContentFilter(tag_keys=(1, 2, 3), match=TagMatch.ALL, exclude_tag_keys=(4,)),
        ContentFilter(tag_keys=(1, 8), creator_id=uuid4(), search="red fox"),
        ContentFilter(tag_keys=(7, 8), exclude_creator_id=uuid4(), viewer_id=uuid4()),
        ContentFilter(tag_keys=(8,)),
        ContentFilter(tag_keys=(2,), creator_id=uuid4()),
    ]
    rare = TagStats(tags={k: {Source.REGULAR: 1, Source.AUTO: 1} for k in range(1, 9)})
    known = TagStats(
        tags={k: {Source.REGULAR: 900, Source.AUTO: 1_900} for k in range(1, 9)},
        source_items={Source.REGULAR: 1_000, Source.AUTO: 2_000},
        ids={k: uuid4() for k in range(1, 9)},
    )
    long_tail = TagStats(
        tags={k: {Source.REGULAR: 60_000, Source.AUTO: 60_000} for k in range(1, 9)},
        source_items={Source.REGULAR: 1_000_000, Source.AUTO: 1_000_000},
        ids=known.ids,
    )
    common = TagStats(
        tags={k: {Source.REGULAR: 600_000, Source.AUTO: 600_000} for k in range(1, 9)},
        source_items={Source.REGULAR: 1_000_000, Source.AUTO: 1_000_000},
        ids=known.ids,
    )
    bound = Position(NOW, Source.REGULAR, 3)
    kinds = set()
    cases = (
        (Sort.NEWEST, STATS),
        (Sort.NEWEST, common),  # ALL capped: the walk, else the bitmap
        (Sort.NEWEST, long_tail),  # ALL of tags that seldom meet: a shorter cap
        (Sort.NEWEST, rare),  # ANY of rare tags: each tag's postings, one LATERAL walk
        (Sort.TOP_RATED, rare),
        (Sort.TOP_RATED, known),
    )
    for flt in filters:
        for sort, stats in cases:
            value = NOW if sort is Sort.NEWEST else 0.5
            at = Position(value, bound.source, bound.id)
            main = plan_walk(flt, Walk(sort, True, at, 26), stats, "page")
            probe = plan_walk(flt, Walk(sort, False, at, 1, True), stats, "probe")
            page = page_statement(main.shape, probe.shape, whole_item_columns(True))
            assert _required(page) <= {**main.params, **probe.params}.keys()
            counted = count_statement(main.shape)
            assert counted is not None
            assert _required(counted) <= main.params.keys()
            kinds |= {(branch.kind, branch.tags) for branch in main.shape.branches}
    assert {kind for kind, _ in kinds} == set(BranchKind)
    assert {test for _, test in kinds} == set(TagTest)


def test_every_parameter_of_the_matching_set_statement_is_planned() -> None:
    """First and later pages (a bound: the probe reads the same set), both sorts, with
    excluded tags tested on the array (UUIDs known) or probed, collections and privacy."""
    ids = {k: uuid4() for k in range(1, 9)}
    viewer = uuid4()
    filters = [
        ContentFilter(tag_keys=(1,)),
        ContentFilter(tag_keys=(1, 2, 3), match=TagMatch.ALL, exclude_tag_keys=(4,)),
        ContentFilter(tag_keys=(1, 2), exclude_creator_id=uuid4(), viewer_id=viewer),
        ContentFilter(
            tag_keys=(2,),
            collections=frozenset({Collection.COMMUNITY_REGULAR, Collection.COMMUNITY_AUTO}),
            viewer_id=viewer,
            search="red fox",
        ),
    ]
    excluded_unknown = TagStats(STATS.tags, STATS.source_items, {k: ids[k] for k in (1, 2, 3)})
    for stats in (TagStats(STATS.tags, STATS.source_items, ids), excluded_unknown):
        for flt in filters[:2]:
            for sort in (Sort.NEWEST, Sort.LOWEST_RATED):
                value = NOW if sort is Sort.NEWEST else 0.5
                for bound in (None, Position(value, Source.AUTO, 3)):
                    main = plan_walk(flt, Walk(sort, True, bound, 26), stats, "page")
                    assert main.shape.matching_set
                    probe = None
                    params = main.params
                    if bound is not None:
                        probe = plan_walk(flt, Walk(sort, False, bound, 1, True), stats, "probe")
                        params = {**params, **probe.params}
                    stmt = matching_set_statement(
                        main.shape, probe and probe.shape, whole_item_columns(False)
                    )
                    assert _required(stmt) <= params.keys()
    for flt in filters[2:]:
        main = plan_walk(
            flt,
            Walk(Sort.NEWEST, True, None, 26),
            TagStats(STATS.tags, STATS.source_items, ids),
            "page",
        )
        assert main.shape.matching_set
        assert (
            _required(matching_set_statement(main.shape, None, whole_item_columns(True)))
            <= main.params.keys()
        )


def _required(stmt: ClauseElement) -> set[str]:
    compiled = cast(SQLCompiler, stmt.compile(dialect=postgresql.dialect()))
    names = {name for name, bind in compiled.binds.items() if bind.required}
    assert names, "a template without parameters"
    return names


def _walks_plan(flt: ContentFilter, sort: Sort = Sort.NEWEST, bound: bool = False) -> Plan:
    at = Position(NOW, Source.AUTO, 1) if bound else None
    page = plan_walk(flt, Walk(sort, sort.descending, at, 26), STATS, "page").shape
    probe = None
    if at is not None:
        probe = plan_walk(flt, Walk(sort, not sort.descending, at, 1, True), STATS, "probe").shape
    return walks_plan(page, probe)


def test_which_walks_are_planned_once_per_session() -> None:
    """Postings walks always; an item table's date index on a first page; the rest,
    excluded tags and searches custom (scripts/page_plans.py measures why)."""
    many = {k: {Source.REGULAR: 900, Source.AUTO: 1_900} for k in range(1, 9)}
    common = TagStats(tags=many, source_items=STATS.source_items)
    one_tag = ContentFilter(tag_keys=(1,))
    assert plan_walk(one_tag, Walk(Sort.NEWEST, True, None, 26), STATS, "page").shape.branches
    assert _walks_plan(one_tag) is Plan.GENERIC_IF_KEPT
    assert _walks_plan(one_tag, bound=True) is Plan.GENERIC_IF_KEPT
    assert _walks_plan(ContentFilter()) is Plan.GENERIC_IF_KEPT  # the sort index, first page
    assert _walks_plan(ContentFilter(), bound=True) is Plan.CUSTOM
    assert _walks_plan(ContentFilter(), Sort.TOP_RATED) is Plan.CUSTOM
    assert _walks_plan(ContentFilter(tag_keys=(1,), exclude_tag_keys=(2,))) is Plan.CUSTOM
    assert _walks_plan(ContentFilter(tag_keys=(1,), search="cat")) is Plan.CUSTOM
    any_common = ContentFilter(tag_keys=(1, 2), match=TagMatch.ANY)
    page = plan_walk(any_common, Walk(Sort.NEWEST, True, None, 26), common, "page").shape
    assert {branch.kind for branch in page.branches} == {BranchKind.ITEMS}
    assert walks_plan(page, None) is Plan.GENERIC_IF_KEPT
