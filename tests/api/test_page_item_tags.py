"""A page reads its items' tag arrays only when the query selects `tags` on its nodes; every
way of asking for them (fragments, aliases, a selection the look-ahead misses) still gets
each item's tags, checked against the item rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.queries import content
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery
from tests.model import load_items

FRAGMENT = """
fragment Labels on ContentItem { labels: tags { name } }
query { contentItems(first: 40) { edges { node { databaseId source ...Labels } } } }
"""
INLINE = """
query { contentItems(first: 40) {
  edges { node { databaseId source ... on ContentItem { labels: tags { name } } } } } }
"""
ALIASED = """
query { page: contentItems(first: 40) {
  all: edges { item: node { databaseId source labels: tags { name } } } } }
"""
NO_TAGS = "query { contentItems(first: 40) { edges { node { databaseId source title } } } }"


@pytest.fixture
async def dataset(engine: AsyncEngine) -> Dataset:
    return await build_gallery(engine)


async def _expected(engine: AsyncEngine, dataset: Dataset) -> dict[tuple[str, int], list[str]]:
    return {
        (item.source, item.id): sorted(dataset.tag_names[tag] for tag in item.tags)
        for item in await load_items(engine)
    }


def _labels(data: dict[str, Any]) -> dict[tuple[str, int], list[str]]:
    connection = data.get("contentItems") or data["page"]
    edges = connection.get("edges") or connection["all"]
    nodes = [edge.get("node") or edge["item"] for edge in edges]
    return {
        (node["source"], node["databaseId"]): [tag["name"] for tag in node["labels"]]
        for node in nodes
    }


@pytest.mark.parametrize("query", [FRAGMENT, INLINE, ALIASED])
async def test_tags_however_asked(
    gql: GraphQLClient, engine: AsyncEngine, dataset: Dataset, query: str
) -> None:
    want = await _expected(engine, dataset)
    got = _labels(await gql.data(query))
    assert len(got) == 40
    assert got == {key: want[key] for key in got}


async def test_a_selection_the_look_ahead_misses_still_gets_tags(
    gql: GraphQLClient, engine: AsyncEngine, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content, "selects", lambda *_: False)
    want = await _expected(engine, dataset)
    got = _labels(await gql.data(ALIASED))
    assert len(got) == 40
    assert got == {key: want[key] for key in got}
