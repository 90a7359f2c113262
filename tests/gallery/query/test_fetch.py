"""The domain read path without GraphQL: `fetch_page` paged to the end in both directions,
and `count_matches`, equal the plain-Python model for every filter Hypothesis draws, with
tagged filters read as one matching set and by the walks (each forced in turn), each
both on the reading connection (custom plans) and on the read engine's generic-plan
sessions (db/generic_sessions.py)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.db.generic_sessions import generic_sessions
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import plan_rules
from gallery_gql.gallery.query.count import count_matches
from gallery_gql.gallery.query.fetch import fetch_page, fetch_page_rows
from gallery_gql.gallery.query.filters import (
    Collection,
    ContentFilter,
    PageRequest,
    Sort,
    TagMatch,
)
from gallery_gql.gallery.query.sql import ITEM_DATA_COLUMNS, whole_item_columns
from gallery_gql.gallery.query.tag_stats import TagStats, resolve_tags
from gallery_gql.settings import Settings
from tests.factories import Dataset, build_gallery
from tests.model import ModelItem, ModelQuery, expected, load_items

SOURCES = {"REGULAR": Source.REGULAR, "AUTO": Source.AUTO}


@pytest.fixture(
    params=[
        "walks",
        "matching-set",
        "walks on generic sessions",
        "matching-set on generic sessions",
    ]
)
def set_rule(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Tagged filters read by the walks, or as one matching set whatever their counts
    (and whatever the walks of ALL would cost, `plan_rules.all_walks_us`)."""
    walks = str(request.param).startswith("walks")
    monkeypatch.setattr(plan_rules, "MATCHING_SET_MAX_US", -1.0 if walks else math.inf)
    if not walks:
        monkeypatch.setattr(plan_rules, "all_walks_us", lambda flt, stats: None)
    return str(request.param)


@pytest.fixture
async def reads(
    engine: AsyncEngine, database_url: str, set_rule: str
) -> AsyncIterator[AsyncEngine]:
    """What pages are read on: the test's engine (it keeps no generic-plan session), or
    the application's read engine, which does."""
    if not set_rule.endswith("on generic sessions"):
        yield engine
        return
    app_reads = autocommit(create_engine(database_url, Settings(database_url=database_url)))
    assert generic_sessions(app_reads).capacity > 0
    yield app_reads
    await app_reads.dispose()


@pytest.fixture
async def gallery(engine: AsyncEngine) -> tuple[Dataset, list[ModelItem]]:
    dataset = await build_gallery(engine)
    return dataset, await load_items(engine)


@st.composite
def filters(draw: st.DrawFn, dataset: Dataset) -> dict[str, Any]:
    tag_ids = st.sampled_from(dataset.tags)
    users = st.sampled_from(dataset.users)
    viewer = draw(st.one_of(st.none(), users))
    scope = draw(st.sampled_from(["ANYONE", "USER", "OTHERS"] if viewer else ["ANYONE", "USER"]))
    return {
        "tags": draw(st.lists(tag_ids, max_size=4, unique=True)),
        "match": draw(st.sampled_from(["ANY", "ALL"])),
        "exclude": draw(st.lists(tag_ids, max_size=2, unique=True)),
        "sources": draw(st.sampled_from([None, ("REGULAR",), ("AUTO",)])),
        "creator": draw(users) if scope == "USER" else None,
        "not_creator": viewer if scope == "OTHERS" else None,
        "viewer": viewer,
        "sort": draw(st.sampled_from([sort.value for sort in Sort])),
        "collections": draw(st.one_of(st.none(), st.lists(st.sampled_from(Collection)))),
        "size": draw(st.sampled_from([3, 17, 100])),
    }


async def _domain_filter(
    conn: AsyncConnection, r: dict[str, Any]
) -> tuple[ContentFilter, TagStats]:
    resolved = await resolve_tags(conn, [*r["tags"], *r["exclude"]])
    key = {tag: found.tag_key for tag, found in resolved.by_id.items()}
    flt = ContentFilter(
        tag_keys=tuple(key[tag] for tag in r["tags"]),
        match=TagMatch(r["match"]),
        exclude_tag_keys=tuple(key[tag] for tag in r["exclude"]),
        sources=tuple(SOURCES[s] for s in r["sources"] or SOURCES),
        creator_id=r["creator"],
        exclude_creator_id=r["not_creator"],
        collections=None if r["collections"] is None else frozenset(r["collections"]),
        viewer_id=r["viewer"],
    )
    return flt, resolved.stats


async def _all_pages(
    conn: AsyncConnection, flt: ContentFilter, sort: Sort, stats: TagStats, size: int, back: bool
) -> list[tuple[str, int]]:
    pages: list[list[tuple[str, int]]] = []
    request = PageRequest(size, backward=back)
    for number in range(10_000 // size + 2):
        page = await fetch_page(conn, flt, sort, request, stats)
        assert (page.has_next if back else page.has_previous) == (number > 0)
        pages.append([(p.source.name, p.id) for p in page.positions])
        assert set(page.items) == {p.item for p in page.positions}
        more = page.has_previous if back else page.has_next
        if not more:
            break
        assert len(page.positions) == size
        edge = page.positions[0] if back else page.positions[-1]
        request = (
            PageRequest(size, backward=True, before=edge) if back else PageRequest(size, after=edge)
        )
    else:
        pytest.fail("paging did not end")
    if back:
        pages.reverse()
    return [key for page in pages for key in page]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_pages_and_counts_match_the_model(
    data: st.DataObject,
    reads: AsyncEngine,
    gallery: tuple[Dataset, list[ModelItem]],
) -> None:
    dataset, items = gallery
    r = data.draw(filters(dataset))
    want = expected(
        items,
        ModelQuery(
            tags=tuple(r["tags"]),
            match=r["match"],
            exclude_tags=tuple(r["exclude"]),
            sources=r["sources"],
            creator_id=r["creator"],
            not_creator_id=r["not_creator"],
            viewer_id=r["viewer"],
            sort=r["sort"],
            collections=None
            if r["collections"] is None
            else frozenset(c.value for c in r["collections"]),
        ),
    )
    sort = Sort(r["sort"])
    async with reads.connect() as conn:
        flt, stats = await _domain_filter(conn, r)
        for back in (False, True):
            assert await _all_pages(conn, flt, sort, stats, r["size"], back) == want
        count = await count_matches(conn, flt, stats, cap=10)
    assert (count.count, count.is_exact) == ((len(want), True) if len(want) <= 10 else (10, False))


async def test_a_filter_that_matches_nothing_reads_nothing(
    engine: AsyncEngine, gallery: tuple[Dataset, list[ModelItem]]
) -> None:
    dataset, _ = gallery
    tag: UUID = dataset.tags[0]
    async with engine.connect() as conn:
        resolved = await resolve_tags(conn, [tag])
        key = resolved.by_id[tag].tag_key
        flt = ContentFilter(tag_keys=(key,), exclude_tag_keys=(key,))
        page = await fetch_page(conn, flt, Sort.NEWEST, PageRequest(5), resolved.stats)
        count = await count_matches(conn, flt, resolved.stats, cap=10)
    assert (page.positions, page.has_next, page.strategy) == ([], False, "nothing")
    assert (count.count, count.is_exact) == (0, True)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_page_read_with_some_columns_is_the_whole_rows_page(
    data: st.DataObject,
    reads: AsyncEngine,
    gallery: tuple[Dataset, list[ModelItem]],
) -> None:
    """The compiled path reads only the columns its selection needs: the same positions
    and flags, each row's columns those of the whole row, first pages and after a cursor."""
    dataset, _ = gallery
    r = data.draw(filters(dataset))
    columns = frozenset(data.draw(st.lists(st.sampled_from(ITEM_DATA_COLUMNS), unique=True)))
    sort = Sort(r["sort"])
    async with reads.connect() as conn:
        flt, stats = await _domain_filter(conn, r)
        request = PageRequest(r["size"])
        for _ in range(2):
            whole = await fetch_page_rows(conn, flt, sort, request, stats, whole_item_columns(True))
            some = await fetch_page_rows(conn, flt, sort, request, stats, columns)
            assert (some.positions, some.has_next, some.has_previous) == (
                whole.positions,
                whole.has_next,
                whole.has_previous,
            )
            for part, full in zip(some.rows, whole.rows, strict=True):
                assert {name: part[name] for name in columns} == {
                    name: full[name] for name in columns
                }
                assert "tags" in columns or part.get("tags") is None
            if not whole.positions:
                break
            request = PageRequest(r["size"], after=whole.positions[-1])
