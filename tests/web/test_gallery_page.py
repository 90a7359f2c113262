"""The gallery page at / in headless Chromium, checked against the API's own answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.web.support import (
    LiveServer,
    open_first_item,
    requires_browser,
    screenshot,
    signed_in,
    tile_ids,
    wait_for,
    wait_gallery,
)

pytestmark = requires_browser

PAGE = """query ($tags: [ID!], $creator: CreatorFilter, $collections: [ContentCollection!]) {
  contentItems(tags: $tags, creator: $creator, collections: $collections, first: 25) {
    edges { node { id } } totalCount { count isExact } } }"""


def page(server: LiveServer, token: str = "", **variables: Any) -> tuple[list[str], int]:
    data = server.gql(PAGE, variables, token=token)["contentItems"]
    return [edge["node"]["id"] for edge in data["edges"]], data["totalCount"]["count"]


def tag_id(server: LiveServer, name: str) -> str:
    tag_global_id: str = server.gql("query ($n: String) { tag(name: $n) { id } }", {"n": name})[
        "tag"
    ]["id"]
    return tag_global_id


def grid_thumbnails(server: LiveServer) -> list[str]:
    """What the API answers for the first page's thumbnails, as the grid asks them."""
    query = """{ contentItems(first: 25) { edges { node {
        thumbnail(resolution: "512x512") } } } }"""
    edges = server.gql(query)["contentItems"]["edges"]
    return [edge["node"]["thumbnail"] for edge in edges]


def rendered_images(driver: Any, selector: str, count: int) -> list[dict[str, Any]]:
    """Wait until `count` images match and every one has loaded and decoded (a natural
    size above zero; a broken image has none, and the page removes it); their src and
    natural size."""
    script = """return [...document.querySelectorAll(arguments[0])].map(i => ({
        src: i.currentSrc, complete: i.complete,
        width: i.naturalWidth, height: i.naturalHeight}))"""

    def loaded(d: Any) -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = d.execute_script(script, selector)
        done = len(found) == count and all(i["complete"] and i["width"] > 0 for i in found)
        return found if done else None

    images: list[dict[str, Any]] = wait_for(driver, loaded, f"{count} images did not render")
    assert all(image["height"] > 0 for image in images)
    # And each decodes into pixels (`decode()` rejects for an image that cannot be shown).
    decoded = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        Promise.all([...document.querySelectorAll(arguments[0])].map(i => i.decode()))
          .then(all => done(all.length), error => done(String(error)));""",
        selector,
    )
    assert decoded == count, decoded
    return images


def query_of(driver: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def test_gallery_shows_a_page_of_tiles_and_the_total(browser: Any, live_server: LiveServer) -> None:
    browser.get(live_server.url + "/")
    wait_gallery(browser)
    ids, total = page(live_server)
    assert tile_ids(browser) == ids
    assert len(ids) == 25
    assert browser.find_element("id", "total").text == f"{total} items"
    # Every tile shows its thumbnail, decoded (not the placeholder), from /media/.
    images = rendered_images(browser, "#grid .tile img", 25)
    thumbnails = grid_thumbnails(live_server)
    assert [image["src"] for image in images] == [live_server.url + url for url in thumbnails]
    assert all(url.startswith("/media/") for url in thumbnails)
    for mine in ("show-my-regular", "show-my-auto"):  # an anonymous viewer owns nothing
        assert browser.find_element("id", mine).get_attribute("disabled") is not None
    for community in ("show-community-regular", "show-community-auto"):
        assert browser.find_element("id", community).is_selected()
    assert browser.find_element("id", "who-hint").is_displayed()
    # No script errors and no failed request.
    problems = [
        entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
    ]
    assert not problems, problems
    screenshot(browser, "gallery.png")


def test_a_tag_filter_narrows_the_results_and_lands_in_the_url(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/")
    wait_gallery(browser)
    _, everything = page(live_server)
    field = browser.find_element("id", "tag-input")
    field.send_keys("tag-6")
    option = wait_for(
        browser,
        lambda d: d.find_elements("css selector", '#tag-options li[data-name="tag-6"]'),
        "no autocomplete suggestion for tag-6",
    )[0]
    option.click()
    wait_gallery(browser, "tag=tag-6")
    ids, total = page(live_server, tags=[tag_id(live_server, "tag-6")])
    assert 0 < total < everything
    assert tile_ids(browser) == ids
    assert browser.find_element("id", "total").text == f"{total} item{'s' * (total != 1)}"
    assert query_of(browser)["tag"] == ["tag-6"]
    # The match mode lands in the URL too, and a reload keeps the whole filter.
    browser.find_element("css selector", '[data-match="all"]').click()
    wait_gallery(browser, "match=all")
    browser.refresh()
    wait_gallery(browser, "match=all")
    chips = browser.find_elements("css selector", "#tag-chips .chip")
    assert [chip.get_attribute("data-name") for chip in chips] == ["tag-6"]
    screenshot(browser, "gallery-tag-filter.png")


def test_next_then_previous_returns_to_the_same_first_tile(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/?sort=top")
    wait_gallery(browser)
    first_page = tile_ids(browser)
    browser.find_element("id", "next").click()
    wait_gallery(browser, "after=")
    second_page = tile_ids(browser)
    assert len(second_page) == 25
    assert not set(second_page) & set(first_page)
    assert query_of(browser)["sort"] == ["top"]
    browser.find_element("id", "prev").click()
    wait_gallery(browser, "before=")
    assert tile_ids(browser) == first_page
    # Back and reload come back to the same pages: the state lives in the URL.
    browser.back()
    wait_gallery(browser, "after=")
    assert tile_ids(browser) == second_page
    browser.refresh()
    wait_gallery(browser, "after=")
    assert tile_ids(browser) == second_page


def test_an_item_view_shows_the_items_tags(browser: Any, live_server: LiveServer) -> None:
    browser.get(live_server.url + "/?tag=tag-0")
    wait_gallery(browser, "tag=tag-0")
    item_id = open_first_item(browser)
    assert "#/item/" in browser.current_url
    item = live_server.gql(
        """query ($id: ID!) { contentItem(id: $id) {
            title tags { name } thumbnail(resolution: "1024x1024") } }""",
        {"id": item_id},
    )["contentItem"]
    shown = [t.text for t in browser.find_elements("css selector", "#item-body .item-tags .tag")]
    assert shown == [t["name"] for t in item["tags"]]
    assert "tag-0" in shown
    assert browser.find_element("id", "item-title").text == item["title"]
    (image,) = rendered_images(browser, "#item-body .item img", 1)
    assert image["src"] == live_server.url + item["thumbnail"]
    screenshot(browser, "gallery-item.png")
    browser.find_element("id", "item-close").click()
    wait_for(browser, lambda d: "#/item/" not in d.current_url, "closing kept the item URL")
    assert not browser.find_element("id", "item-view").is_displayed()


def test_with_a_token_the_four_collections_toggle_independently(
    browser: Any, live_server: LiveServer
) -> None:
    with signed_in(browser, live_server) as token:
        # A diagonal: my regular items and the community's auto-generated ones.
        browser.find_element("id", "show-my-auto").click()
        wait_gallery(browser, "show=my-regular")
        browser.find_element("id", "show-community-regular").click()
        wait_gallery(browser, "show=community-auto")
        assert query_of(browser)["show"] == ["my-regular", "community-auto"]
        diagonal = ["USER_REGULAR", "COMMUNITY_AUTO"]
        ids, total = page(live_server, token=token, collections=diagonal)
        assert tile_ids(browser) == ids
        assert browser.find_element("id", "total").text.startswith(str(total))
        # Nothing ticked shows nothing, not everything.
        browser.find_element("id", "show-my-regular").click()
        wait_gallery(browser, "show=community-auto")
        browser.find_element("id", "show-community-auto").click()
        wait_gallery(browser, "show=none")
        assert tile_ids(browser) == []


def test_an_unknown_tag_name_is_reported_not_an_empty_page(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/?tag=no-such-tag")
    wait_for(
        browser,
        lambda d: d.execute_script("return document.body.dataset.state") == "error",
        "an unknown tag name did not show an error",
    )
    assert "no-such-tag" in browser.find_element("id", "errors").text


def test_api_errors_are_shown_with_their_code(browser: Any, live_server: LiveServer) -> None:
    browser.get(live_server.url + "/?after=not-a-cursor")
    wait_for(
        browser,
        lambda d: d.execute_script("return document.body.dataset.state") == "error",
        "a bad cursor did not show an error",
    )
    assert "BAD_USER_INPUT" in browser.find_element("id", "errors").text
