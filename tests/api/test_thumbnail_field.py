"""`ContentItem.thumbnail(resolution:)` through the API (its graphql-core resolver is a
plain function, api/schema.py): every way of asking picks what `best_thumbnail` picks
from the item's own row."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.thumbnails import best_thumbnail
from tests.conftest import GraphQLClient
from tests.factories import build_gallery

ALTS = {"256x256": "/t/{id}-256.png", "1024x1024": "/t/{id}-1024.png"}
QUERY = """query {
  contentItems(first: 60) { edges { node {
    databaseId source
    thumbnail
    small: thumbnail(resolution: "256x256")
    missing: thumbnail(resolution: "2048x2048")
    ... on ContentItem { viaFragment: thumbnail(resolution: $resolution) }
  } } }
}"""


async def test_thumbnail_with_and_without_a_resolution(
    gql: GraphQLClient, engine: AsyncEngine
) -> None:
    await build_gallery(engine)
    rows: dict[tuple[str, int], tuple[str, str | None, dict[str, str] | None]] = {}
    async with engine.begin() as conn:
        for source, table in (("REGULAR", "content_items"), ("AUTO", "content_items_auto")):
            await conn.execute(
                text(
                    f"UPDATE {table} SET path_thumbs_alt_res = CAST(:alts AS jsonb)"
                    " WHERE id % 2 = 0"
                ).bindparams(alts=json.dumps(ALTS))
            )
            for row in await conn.execute(
                text(f"SELECT id, content_data, path_thumb, path_thumbs_alt_res FROM {table}")
            ):
                rows[(source, row.id)] = (row.content_data, row.path_thumb, row.path_thumbs_alt_res)
    query = QUERY.replace("query {", "query ($resolution: String) {")
    edges = (await gql.data(query, {"resolution": "1024x1024"}))["contentItems"]["edges"]
    assert len(edges) == 60
    with_alts = 0
    for edge in edges:
        node = edge["node"]
        stored = rows[(node["source"], node["databaseId"])]
        with_alts += stored[2] is not None
        assert node["thumbnail"] == best_thumbnail(*stored, None)
        assert node["small"] == best_thumbnail(*stored, "256x256")
        assert node["missing"] == best_thumbnail(*stored, "2048x2048")
        assert node["viaFragment"] == best_thumbnail(*stored, "1024x1024")
    assert 0 < with_alts < 60
