"""The pages' HTTP side, without a browser: routes, static files, vendored assets."""

from __future__ import annotations

import hashlib
import re

import httpx

from gallery_gql.web.pages import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"


def manifest() -> list[tuple[str, str, str, str]]:
    lines = (VENDOR / "MANIFEST.txt").read_text().splitlines()
    rows = [tuple(line.split()) for line in lines if line and not line.startswith("#")]
    assert all(len(row) == 4 for row in rows)
    return rows  # type: ignore[return-value]


def test_vendored_files_match_the_manifest() -> None:
    rows = manifest()
    assert {row[2] for row in rows} | {"MANIFEST.txt"} == {p.name for p in VENDOR.iterdir()}
    for _package, _version, name, sha256 in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name


def test_graphiql_page_loads_only_local_assets() -> None:
    html = (STATIC_DIR / "graphiql.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        if source.startswith("data:"):
            continue
        assert source.startswith("/static/vendor/"), source
        assert (VENDOR / source.removeprefix("/static/vendor/")).is_file(), source
    assert "unpkg" not in html
    assert "cdn" not in html.lower().replace("no cdn", "")


async def test_root_serves_the_gallery_and_static_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/gallery/gallery.js">' in page.text
    for path in ("/static/gallery/gallery.js", "/static/gallery/gallery.css"):
        assert (await client.get(path)).status_code == 200, path
    assert (await client.get("/static/vendor/graphiql.min.js")).status_code == 200
    assert (await client.get("/static/nope.js")).status_code == 404


async def test_graphql_get_renders_our_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "/static/vendor/graphiql.min.js" in response.text
    assert "defaultTabs" in response.text
