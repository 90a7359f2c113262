"""contentItems, paged to the end in both directions, equals the plain-Python model for
every combination of filters, sorts and page sizes that Hypothesis draws."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import WORDS, Dataset, build_gallery
from tests.model import ModelItem, ModelQuery, expected, load_items

PAGE = """
query Page($tags: [ID!], $tagNames: [String!], $match: TagMatchMode!, $exclude: [ID!],
           $excludeNames: [String!], $creator: CreatorFilter, $sources: [ContentSource!],
           $collections: [ContentCollection!], $search: String, $sort: ContentSort!,
           $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  contentItems(tags: $tags, tagNames: $tagNames, match: $match, excludeTags: $exclude,
               excludeTagNames: $excludeNames, creator: $creator, sources: $sources,
               collections: $collections, search: $search, sort: $sort, first: $first,
               after: $after, last: $last, before: $before) {
    edges { cursor node { source databaseId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount { count isExact }
  }
}
"""


class Gallery(tuple[Dataset, list[ModelItem]]):
    def __repr__(self) -> str:
        return f"Gallery({len(self[1])} items)"


@pytest.fixture
async def gallery(engine: AsyncEngine) -> Gallery:
    dataset = await build_gallery(engine)
    return Gallery((dataset, await load_items(engine)))


COLLECTIONS = ["USER_REGULAR", "USER_AUTO", "COMMUNITY_REGULAR", "COMMUNITY_AUTO"]


@st.composite
def collections(draw: st.DrawFn) -> list[str] | None:
    """None (no filter), [] (nothing), or any subset: diagonals such as my regular with
    the community's auto included."""
    return draw(st.one_of(st.none(), st.lists(st.sampled_from(COLLECTIONS), unique=True)))


@st.composite
def requests(draw: st.DrawFn, dataset: Dataset) -> dict[str, Any]:
    tag_ids = st.sampled_from(dataset.tags)
    users = st.sampled_from(dataset.users)
    chosen = draw(collections())
    scopes = [None, "ANYONE", "USER"]
    if chosen is None:  # ME and OTHERS say whose items as collections do: not both
        scopes += ["ME", "OTHERS"]
    return {
        "collections": chosen,
        "names": dataset.tag_names,
        "by_name": draw(st.booleans()),  # tags given by name instead of by id
        "tags": draw(st.lists(tag_ids, max_size=4, unique=True)),
        "match": draw(st.sampled_from(["ANY", "ALL"])),
        "exclude": draw(st.lists(tag_ids, max_size=2, unique=True)),
        "sources": draw(st.sampled_from([None, ["REGULAR"], ["AUTO"], ["AUTO", "REGULAR"]])),
        "scope": draw(st.sampled_from(scopes)),
        "user": draw(users),
        "viewer": draw(st.one_of(st.none(), users)),
        "search": draw(
            st.one_of(
                st.none(),
                st.sampled_from(WORDS),
                st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(" ".join),
            )
        ),
        "sort": draw(st.sampled_from(["NEWEST", "OLDEST", "TOP_RATED", "LOWEST_RATED"])),
        "size": draw(st.sampled_from([4, 13, 50, 100])),
    }


def _model_query(r: dict[str, Any]) -> ModelQuery:
    creator = not_creator = None
    if r["scope"] == "ME":
        creator = r["viewer"]
    elif r["scope"] == "OTHERS":
        not_creator = r["viewer"]
    elif r["scope"] == "USER":
        creator = r["user"]
    return ModelQuery(
        tuple(r["tags"]),
        r["match"],
        tuple(r["exclude"]),
        tuple(r["sources"]) if r["sources"] else None,
        creator,
        not_creator,
        r["search"],
        r["viewer"],
        r["sort"],
        frozenset(r["collections"]) if r.get("collections") is not None else None,
    )


def _variables(r: dict[str, Any]) -> dict[str, Any]:
    creator = None
    if r["scope"] == "USER":
        creator = {"userId": str(r["user"])}
    elif r["scope"] is not None:
        creator = {"scope": r["scope"]}
    by_name = r.get("by_name", False)
    names = r.get("names", {})
    return {
        "tags": [] if by_name else [str(t) for t in r["tags"]],
        "tagNames": [names[t] for t in r["tags"]] if by_name else None,
        "match": r["match"],
        "exclude": [] if by_name else [str(t) for t in r["exclude"]],
        "excludeNames": [names[t] for t in r["exclude"]] if by_name else None,
        "creator": creator,
        "sources": r["sources"],
        "collections": r.get("collections"),
        "search": r["search"],
        "sort": r["sort"],
    }


async def _walk(
    gql: GraphQLClient,
    variables: dict[str, Any],
    token: str | None,
    size: int,
    backward: bool,
    bound: int,
) -> list[tuple[str, int]]:
    """Every item, page by page to the end; checks the page flags on the way."""
    seen: list[list[tuple[str, int]]] = []
    cursor = None
    for page_number in range(bound):
        paging = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        data = (await gql.data(PAGE, {**variables, **paging}, token))["contentItems"]
        page = [(e["node"]["source"], e["node"]["databaseId"]) for e in data["edges"]]
        info = data["pageInfo"]
        more, came_from = (
            (info["hasPreviousPage"], info["hasNextPage"])
            if backward
            else (info["hasNextPage"], info["hasPreviousPage"])
        )
        assert came_from == (page_number > 0)
        seen.append(page)
        if not more:
            break
        assert len(page) == size
        cursor = info["startCursor"] if backward else info["endCursor"]
    else:
        pytest.fail("paging did not end")
    if backward:
        seen.reverse()
    return [key for page in seen for key in page]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_paging_matches_model(
    data: st.DataObject,
    gql: GraphQLClient,
    gallery: Gallery,
    settings: Settings,
) -> None:
    dataset, items = gallery
    r = data.draw(requests(dataset))
    if r["scope"] in ("ME", "OTHERS") and r["viewer"] is None:
        r["viewer"] = dataset.users[0]
    token = mint_token(r["viewer"], settings) if r["viewer"] else None
    want = expected(items, _model_query(r))
    variables = _variables(r)
    bound = len(items) // r["size"] + 3
    assert await _walk(gql, variables, token, r["size"], False, bound) == want
    assert await _walk(gql, variables, token, r["size"], True, bound) == want
    total = (await gql.data(PAGE, {**variables, "first": 1}, token))["contentItems"]
    assert total["totalCount"] == {"count": len(want), "isExact": True}
