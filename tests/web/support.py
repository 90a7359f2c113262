"""Helpers for the browser tests: the skip marker, the live server handle, waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from gallery_gql.settings import Settings
from tests.factories import Dataset

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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


_MISSING = _browser_missing()
requires_browser = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


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
