"""Helpers for the browser and conformance tests: the skip markers, the live server handle,
waits."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.factories import Dataset, build_gallery

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"


def _browser_missing() -> str | None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        hint = "make browser-deps, or apt-get install chromium chromium-driver"
        return f"needs {' and '.join(missing)} ({hint})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs the selenium package (pip install -e '.[dev]')"
    return None


def conformance_missing(package: str) -> str | None:
    """Why a check with conformance/'s npm `package` cannot run, or None."""
    if shutil.which("node") is None:
        return "needs Node.js 18+ (node is not on PATH)"
    if not (CONFORMANCE / "node_modules" / package).is_dir():
        return f"needs conformance/node_modules/{package}: run `make conformance-deps` (npm)"
    return None


def requires_conformance(package: str) -> pytest.MarkDecorator:
    """Skip, saying why, unless conformance/'s npm `package` can run."""
    missing = conformance_missing(package)
    return pytest.mark.skipif(missing is not None, reason=missing or "")


_MISSING = _browser_missing()
requires_browser = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


async def seed_gallery(database_url: str, regular: int, auto: int) -> Dataset:
    """build_gallery's users, tags and items written into the database at database_url."""
    engine = create_async_engine(database_url)
    try:
        return await build_gallery(engine, regular=regular, auto=auto)
    finally:
        await engine.dispose()


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread, on a free loopback port; its base URL.
    Shut down (bounded) on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class LiveServer:
    def __init__(self, url: str, settings: Settings, dataset: Dataset) -> None:
        self.url = url
        self.settings = settings
        self.dataset = dataset

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
        """Ask the API directly, for the values a page should show."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=10,
        ).json()
        assert "errors" not in body, body["errors"]
        return body["data"]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def wait_for(driver: Any, condition: Any, message: str, timeout: float = 10) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition, message)


def wait_gallery(driver: Any, url_part: str = "") -> None:
    """Wait until the gallery has finished loading a page whose URL contains url_part."""
    wait_for(
        driver,
        lambda d: (
            url_part in d.current_url
            and d.execute_script("return document.body.dataset.state") in ("ready", "error")
        ),
        f"the gallery did not finish loading {url_part!r}",
    )
    state = driver.execute_script("return document.body.dataset.state")
    assert state == "ready", driver.find_element("id", "errors").text


def tile_ids(driver: Any) -> list[str]:
    ids: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#grid .tile')].map(t => t.dataset.id)"
    )
    return ids


@contextmanager
def signed_in(driver: Any, server: LiveServer) -> Iterator[str]:
    """The page loaded with the first user's token in localStorage (cleared on exit), its
    gallery shown; the token."""
    token = mint_token(server.dataset.users[0], server.settings)
    driver.get(server.url + "/")
    driver.execute_script("localStorage.setItem('gallery-gql.token', arguments[0])", token)
    try:
        driver.refresh()
        wait_gallery(driver)
        wait_for(driver, lambda d: "user0" in d.find_element("id", "viewer").text, "no viewer")
        yield token
    finally:
        driver.execute_script("localStorage.clear()")


def open_first_item(driver: Any) -> str:
    """Click the grid's first tile and wait for its item view; the item's id."""
    tile = driver.find_elements("css selector", "#grid .tile")[0]
    item_id: str = tile.get_attribute("data-id")
    tile.click()
    wait_for(
        driver,
        lambda d: d.find_elements("css selector", f'#item-body .item[data-id="{item_id}"]'),
        "the item view did not open",
    )
    return item_id
