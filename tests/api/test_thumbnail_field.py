"""`ContentItem.thumbnail(resolution:)` through the API (its graphql-core resolver is a
plain function, api/schema.py): every way of asking picks what `best_thumbnail` picks
from the item's own row."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.gallery.thumbnails import best_thumbnail
from gallery_gql.settings import Settings
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


Row = tuple[str, str | None, dict[str, str] | None]


async def _thumbnail_rows(engine: AsyncEngine) -> dict[tuple[str, int], Row]:
    """Give every other item alternatives; return each item's thumbnail columns."""
    rows: dict[tuple[str, int], Row] = {}
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
    return rows


async def test_thumbnail_with_and_without_a_resolution(
    gql: GraphQLClient, engine: AsyncEngine
) -> None:
    await build_gallery(engine)
    rows = await _thumbnail_rows(engine)
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


URLS = """query { contentItems(first: 60) { edges { node {
  databaseId source thumbnail large: thumbnail(resolution: "1024x1024") } } } }"""


@pytest.mark.parametrize(
    ("configured", "prefix"),
    [
        ({"media_root": "MEDIA"}, "/media/"),
        ({"media_base_url": "https://cdn.example.com/g/"}, "https://cdn.example.com/g/"),
        (
            {"media_root": "MEDIA", "media_base_url": "https://cdn.example.com/g"},
            "https://cdn.example.com/g/",
        ),
    ],
)
async def test_thumbnail_is_a_url_under_the_configured_media_location(
    settings: Settings,
    engine: AsyncEngine,
    tmp_path: Path,
    configured: dict[str, str],
    prefix: str,
) -> None:
    """The stored paths (`/thumbs/1.png`, `/t/{id}-1024.png`) percent-encoded under the
    media route or the CDN's base URL, for the same choice `best_thumbnail` makes."""
    await build_gallery(engine)
    rows = await _thumbnail_rows(engine)
    values = {key: tmp_path if value == "MEDIA" else value for key, value in configured.items()}
    media_settings = Settings.model_validate({**settings.model_dump(), **values})
    app = create_app(media_settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            edges = (await GraphQLClient(http).data(URLS))["contentItems"]["edges"]
    assert len(edges) == 60
    for edge in edges:
        node = edge["node"]
        row = rows[(node["source"], node["databaseId"])]
        for url, resolution in ((node["thumbnail"], None), (node["large"], "1024x1024")):
            assert url == prefix + quote(best_thumbnail(*row, resolution).lstrip("/"))
