"""Our GraphiQL page renders offline: vendored assets only, example tabs, a working fetcher."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from tests.web.support import LiveServer, requires_browser, screenshot, wait_for

pytestmark = requires_browser

EXAMPLE_TABS = {
    "GalleryPage",
    "TagFilterAny",
    "Collections",
    "TagFilterAll",
    "NextPage",
    "TagAutocomplete",
    "ItemWithTags",
    "CreateContent",
    "RetagContent",
}


def requested_urls(driver: Any) -> set[str]:
    """Every URL the page asked for: the network log and the resource timing entries."""
    urls = {driver.current_url}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    urls.update(
        driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    )
    return urls


READ_EXAMPLES = {
    "TagFilterAny": "totalCount",
    "Collections": "totalCount",
    "TagFilterAll": "totalCount",
    "NextPage": "hasPreviousPage",
    "ItemWithTags": "creator",
    "GalleryPage": "totalCount",
}


def run_tab(driver: Any, title: str, expected: str) -> str:
    tab = next(t for t in driver.find_elements("css selector", ".graphiql-tab") if t.text == title)
    tab.find_element("css selector", "button").click()
    # GraphiQL reads the operation name from the editor after a 100 ms debounce.
    wait_for(
        driver,
        lambda d: d.execute_script(OPERATION_NAME) == title,
        f"tab {title} did not open",
    )
    driver.find_element("css selector", ".graphiql-execute-button").click()
    text: str = wait_for(
        driver,
        lambda d: expected in (text := d.execute_script(RESPONSE_TEXT)) and text,
        f"running {title} gave no result: {driver.execute_script(RESPONSE_TEXT)}",
    )
    return text


def test_graphiql_renders_offline_with_the_examples(browser: Any, live_server: LiveServer) -> None:
    browser.get_log("performance")  # drop what earlier pages logged
    browser.get(live_server.url + "/graphql")
    wait_for(
        browser,
        lambda d: d.find_elements("css selector", ".graphiql-query-editor .CodeMirror"),
        "the GraphiQL editor did not render",
        timeout=20,
    )
    titles = {t.text for t in browser.find_elements("css selector", ".graphiql-tab")}
    assert titles >= EXAMPLE_TABS, titles
    # The read examples run as they are: real ids and cursor filled in, and the token
    # placeholder in their headers is not sent.
    for title, expected in READ_EXAMPLES.items():
        response = run_tab(browser, title, expected)
        assert '"errors"' not in response, response
    urls = requested_urls(browser)
    hosts = {urlsplit(url).hostname for url in urls if urlsplit(url).scheme in ("http", "https")}
    assert hosts == {"127.0.0.1"}, urls
    assert any(url.endswith("/static/vendor/graphiql.min.js") for url in urls)
    screenshot(browser, "graphiql.png")


def test_the_examples_panel_opens_an_example_in_a_new_tab(
    browser: Any, live_server: LiveServer
) -> None:
    browser.get(live_server.url + "/graphql")
    wait_for(
        browser,
        lambda d: d.find_elements("css selector", '[aria-label="Show Examples"]'),
        "no Examples panel",
        timeout=20,
    )
    tabs_before = len(browser.find_elements("css selector", ".graphiql-tab"))
    browser.find_element("css selector", '[aria-label="Show Examples"]').click()
    buttons = browser.find_elements("css selector", ".examples button")
    assert {b.text.split("\n")[0] for b in buttons} == EXAMPLE_TABS
    next(b for b in buttons if b.text.startswith("TagAutocomplete")).click()
    wait_for(
        browser,
        lambda d: (
            len(d.find_elements("css selector", ".graphiql-tab")) == tabs_before + 1
            and "tags(search:" in d.execute_script(QUERY_TEXT)
        ),
        "the example did not open in a new tab",
    )
    wait_for(
        browser,
        lambda d: d.execute_script(OPERATION_NAME) == "TagAutocomplete",
        "the new tab did not take the example's operation name",
    )
    browser.find_element("css selector", ".graphiql-execute-button").click()
    response = wait_for(
        browser,
        lambda d: '"edges"' in (text := d.execute_script(RESPONSE_TEXT)) and text,
        "running the example gave no result: " + browser.execute_script(RESPONSE_TEXT),
    )
    assert '"name": "tag-' in response
    screenshot(browser, "graphiql-examples.png")


OPERATION_NAME = """
const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
return cm ? cm.CodeMirror.operationName : null;
"""
QUERY_TEXT = """
const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
return cm ? cm.CodeMirror.getValue() : '';
"""
RESPONSE_TEXT = """
const cm = document.querySelector('.graphiql-response .CodeMirror');
return cm ? cm.CodeMirror.getValue() : '';
"""
