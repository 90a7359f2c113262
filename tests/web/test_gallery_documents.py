"""How the gallery page sends its operations: queries by GET, by the hash the trusted
manifest holds, and nothing else; with only trusted documents allowed, the page still works."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from graphql import get_operation_ast, parse

from gallery_gql.api.documents.manifest import trusted_documents
from gallery_gql.app import create_app
from tests.factories import Dataset
from tests.web.conftest import page_settings
from tests.web.support import (
    LiveServer,
    open_first_item,
    requires_browser,
    serve_in_thread,
    signed_in,
    tile_ids,
    wait_gallery,
)

pytestmark = requires_browser

GRAPHQL_REQUESTS = """return performance.getEntriesByType('resource')
    .filter(e => new URL(e.name).pathname === '/graphql')
    .map(e => ({url: e.name, status: e.responseStatus}))"""


@pytest.fixture(scope="module")
def trusted_only_server(gallery_data: tuple[str, Dataset, Path]) -> Iterator[LiveServer]:
    database_url, dataset, home = gallery_data
    settings = page_settings(database_url, home).model_copy(update={"trusted_documents_only": True})
    with serve_in_thread(create_app(settings)) as url:
        yield LiveServer(url, settings, dataset)


def graphql_requests(driver: Any) -> list[dict[str, Any]]:
    """The page's requests to /graphql so far: each one's parameters and status."""
    entries: list[dict[str, Any]] = driver.execute_script(GRAPHQL_REQUESTS)
    return [{"params": parse_qs(urlsplit(e["url"]).query), "status": e["status"]} for e in entries]


def assert_sent_by_trusted_hash(driver: Any) -> set[str]:
    """Every request so far a GET naming a manifest document by hash alone (a POST's entry
    has no query string), answered 200; the names of the documents sent."""
    requests = graphql_requests(driver)
    assert requests
    manifest = trusted_documents()
    names = set()
    for request in requests:
        params = request["params"]
        assert "query" not in params, params
        (extensions,) = params["extensions"]
        digest = json.loads(extensions)["persistedQuery"]["sha256Hash"]
        assert digest in manifest, params
        assert request["status"] == 200, request
        operation = get_operation_ast(parse(manifest[digest]))
        assert operation is not None
        assert operation.name is not None
        names.add(operation.name.value)
    return names


def test_the_grid_is_asked_by_get_with_the_manifest_hash(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/?tag=tag-0")
    wait_gallery(browser, "tag=tag-0")
    assert "GalleryPage" in assert_sent_by_trusted_hash(browser)


def test_with_only_trusted_documents_the_page_still_works(
    browser: Any, trusted_only_server: LiveServer
) -> None:
    with signed_in(browser, trusted_only_server):
        assert len(tile_ids(browser)) == 25
        open_first_item(browser)
        sent = assert_sent_by_trusted_hash(browser)
    assert {"GalleryPage", "Viewer", "GalleryItem"} <= sent


def test_an_unknown_hash_is_sent_again_in_full_and_a_long_url_goes_by_post(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/")
    wait_gallery(browser)
    browser.execute_script("performance.clearResourceTimings()")
    # Not in the manifest; a fresh name so no worker has it registered yet.
    document = f"query Unlisted{time.monotonic_ns()} {{ viewer {{ username }} }}"
    answers = browser.execute_async_script(
        """const [document, done] = [arguments[0], arguments[arguments.length - 1]];
        import("/static/gallery/api.js").then(async ({ gql }) => done([
          await gql(document),
          await gql(document, { padding: "x".repeat(7000) }),
        ])).catch((error) => done(String(error)));""",
        document,
    )
    assert answers == [{"viewer": None}, {"viewer": None}], answers
    sent = [
        ("extensions" in r["params"], "query" in r["params"], r["status"])
        for r in graphql_requests(browser)
    ]
    # By hash (404), again in full by POST (registered), by hash (its URL too long: POST).
    assert sent == [(True, False, 404), (False, False, 200), (False, False, 200)]
