"""The four gallery collections and tags by name, at the edges the model tests do not
draw: an empty selection, ambiguous combinations, unknown and oversized names. (Random
subsets and names are held to the plain-Python model in test_content_items_model.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery

QUERY = """
query ($collections: [ContentCollection!], $creator: CreatorFilter, $tagNames: [String!],
       $excludeTagNames: [String!]) {
  contentItems(collections: $collections, creator: $creator, tagNames: $tagNames,
               excludeTagNames: $excludeTagNames, first: 100) {
    edges { node { source databaseId } }
    pageInfo { hasNextPage }
    totalCount { count isExact }
  }
}
"""


@pytest.fixture
async def dataset(engine: AsyncEngine) -> Dataset:
    return await build_gallery(engine, regular=20, auto=30)


def _error(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return dict(error)


async def test_an_empty_selection_shows_nothing(
    gql: GraphQLClient, dataset: Dataset, settings: Settings
) -> None:
    token = mint_token(dataset.users[0], settings)
    for viewer in (None, token):
        page = (await gql.data(QUERY, {"collections": []}, viewer))["contentItems"]
        assert page == {
            "edges": [],
            "pageInfo": {"hasNextPage": False},
            "totalCount": {"count": 0, "isExact": True},
        }


async def test_an_anonymous_viewer_owns_nothing(gql: GraphQLClient, dataset: Dataset) -> None:
    mine = await gql.data(QUERY, {"collections": ["USER_REGULAR", "USER_AUTO"]})
    assert mine["contentItems"]["edges"] == []
    community = await gql.data(QUERY, {"collections": ["COMMUNITY_REGULAR"]})
    everything = await gql.data(QUERY, {"collections": None})
    regular = [e for e in everything["contentItems"]["edges"] if e["node"]["source"] == "REGULAR"]
    assert community["contentItems"]["edges"] == regular


@pytest.mark.parametrize("scope", ["ME", "OTHERS"])
async def test_collections_with_a_creator_scope_are_ambiguous(
    gql: GraphQLClient, dataset: Dataset, settings: Settings, scope: str
) -> None:
    token = mint_token(dataset.users[0], settings)
    variables = {"collections": ["USER_AUTO"], "creator": {"scope": scope}}
    error = _error(await gql.post(QUERY, variables, token))
    assert "collections" in error["message"]
    anyone = {"collections": ["USER_AUTO"], "creator": {"scope": "ANYONE"}}
    assert "errors" not in await gql.post(QUERY, anyone, token)


async def test_unknown_tag_names_are_listed_never_an_empty_page(
    gql: GraphQLClient, dataset: Dataset
) -> None:
    known = dataset.tag_names[dataset.tags[0]]
    variables = {"tagNames": [known, "ghost"], "excludeTagNames": ["phantom", "ghost"]}
    error = _error(await gql.post(QUERY, variables))
    assert error["extensions"]["unknownTagNames"] == ["ghost", "phantom"]
    assert "'ghost'" in error["message"]
    assert "'phantom'" in error["message"]


async def test_tag_names_are_bounded(
    gql: GraphQLClient, dataset: Dataset, settings: Settings
) -> None:
    too_many = [f"name-{n}" for n in range(settings.max_filter_tags + 1)]
    assert "at most" in _error(await gql.post(QUERY, {"tagNames": too_many}))["message"]
    too_long = {"excludeTagNames": ["x" * 256]}
    assert "255 characters" in _error(await gql.post(QUERY, too_long))["message"]
    for control in ("nul\x00", "tab\t", "zero\u200bwidth"):  # no tag name has them
        message = _error(await gql.post(QUERY, {"tagNames": [control]}))["message"]
        assert "control characters" in message
