"""The gallery page's live first page in headless Chromium: items created through the
API appear behind an "N new items" button and are inserted on a click; a deleted item's
tile is dropped; a filter the item does not match shows nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from gallery_gql.app import create_app
from gallery_gql.auth import mint_token
from gallery_gql.gallery.live.hub import LiveHub
from tests.api.mutations.calls import CREATE, DELETE, new_item
from tests.factories import Dataset
from tests.web.conftest import page_settings
from tests.web.support import (
    LiveServer,
    requires_browser,
    screenshot,
    serve_in_thread,
    tile_ids,
    wait_for,
    wait_gallery,
)

pytestmark = requires_browser


@pytest.fixture(scope="module")
def served_app(gallery_data: tuple[str, Dataset, Path]) -> Iterator[tuple[LiveServer, FastAPI]]:
    database_url, dataset, home = gallery_data
    settings = page_settings(database_url, home)
    app = create_app(settings)
    with serve_in_thread(app) as url:
        yield LiveServer(url, settings, dataset), app


@pytest.fixture(autouse=True)
def leave_the_page(browser: Any) -> Iterator[None]:
    """Close the page (and its socket) while the server still runs, and leave no log
    behind: the run's other page tests assert that the browser logged no error (the
    items created here have no thumbnail file)."""
    yield
    browser.get("about:blank")
    browser.get_log("browser")


def _live(driver: Any, server: LiveServer, app: FastAPI, path: str) -> LiveHub:
    """Open `path` once no earlier page is subscribed; wait until it is."""
    hub: LiveHub = app.state.live
    driver.get("about:blank")
    wait_for(driver, lambda d: hub.subscriptions == 0, "a closed page stayed subscribed", 30)
    driver.get(server.url + path)
    wait_gallery(driver)
    wait_for(
        driver,
        lambda d: (
            d.execute_script("return document.body.dataset.live") == "on" and hub.subscriptions == 1
        ),
        "the page did not subscribe",
    )
    return hub


def _button(driver: Any) -> str | None:
    text: str | None = driver.execute_script(
        "const b = document.getElementById('live-new'); return b.hidden ? null : b.textContent"
    )
    return text


def test_new_items_wait_behind_a_button_and_are_inserted_on_click(
    browser: Any, served_app: tuple[LiveServer, FastAPI]
) -> None:
    server, app = served_app
    token = mint_token(server.dataset.users[1], server.settings)
    _live(browser, server, app, "/")
    first_tiles = tile_ids(browser)
    created = [
        server.gql(CREATE, {"input": new_item(title=f"Live {n}")}, token=token)["createContent"]
        for n in range(2)
    ]
    wait_for(browser, lambda d: _button(d) == "2 new items", "no button for 2 new items")
    assert tile_ids(browser) == first_tiles  # nothing moves until asked
    screenshot(browser, "gallery-live-new.png")
    browser.find_element("id", "live-new").click()
    newest_first = [c["item"]["id"] for c in reversed(created)]
    assert tile_ids(browser)[:2] == newest_first
    assert tile_ids(browser)[2:] == first_tiles
    assert _button(browser) is None

    server.gql(DELETE, {"input": {"id": newest_first[0]}}, token=token)
    wait_for(
        browser,
        lambda d: newest_first[0] not in tile_ids(d),
        "the deleted item's tile stayed",
    )


def test_a_filter_shows_only_the_items_it_matches(
    browser: Any, served_app: tuple[LiveServer, FastAPI]
) -> None:
    server, app = served_app
    token = mint_token(server.dataset.users[2], server.settings)
    tag = server.dataset.tags[3]
    name = server.dataset.tag_names[tag]
    hub = _live(browser, server, app, f"/?tag={name}")
    seen = hub.processed
    server.gql(CREATE, {"input": new_item(tags=[str(server.dataset.tags[4])])}, token=token)
    wait_for(browser, lambda d: hub.processed > seen, "the event was not handled")
    assert _button(browser) is None
    server.gql(CREATE, {"input": new_item(tags=[str(tag)])}, token=token)
    wait_for(browser, lambda d: _button(d) == "1 new item", "no button for the tagged item")
