"""Browser tests: the real app under uvicorn on 127.0.0.1, driven by headless Chromium.

Debian's `chromium` and `chromium-driver` (`make browser-deps`); the tests are skipped when
either is missing. Nothing is downloaded: Selenium gets both paths and runs offline, and
Chromium resolves no host names, so a page that needed a CDN would show up broken.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.app import create_app
from gallery_gql.ops.media.files import write_item_media
from gallery_gql.settings import Settings
from tests.factories import Dataset, build_gallery
from tests.web.support import CHROMEDRIVER, CHROMIUM, LiveServer, serve_in_thread


def page_settings(database_url: str, home: Path) -> Settings:
    """The pages' app: GraphiQL on, the media root as `seed` writes it, no rate limit."""
    return Settings(
        database_url=database_url,
        secret="test-secret-" + "x" * 32,
        home=home,
        rate_limit="",
        graphiql=True,
        media_root=home / "media",
    )


@pytest.fixture(scope="module")
async def gallery_data(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Dataset, Path]:
    """The test gallery, and a home whose media root holds every item's thumbnail files
    (written as `seed` writes them)."""
    engine = create_async_engine(module_database_url)
    dataset = await build_gallery(engine)
    await engine.dispose()
    home = tmp_path_factory.mktemp("home")
    await write_item_media(module_database_url, home / "media")
    return module_database_url, dataset, home


@pytest.fixture(scope="module")
def live_server(gallery_data: tuple[str, Dataset, Path]) -> Iterator[LiveServer]:
    """The app served by uvicorn in a thread, on a free loopback port, shut down after."""
    database_url, dataset, home = gallery_data
    settings = page_settings(database_url, home)
    with serve_in_thread(create_app(settings)) as url:
        yield LiveServer(url, settings, dataset)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (fresh profile, performance log on)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download
    profile = tempfile.mkdtemp(prefix="gallery-gql-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        # Loopback only: every host but 127.0.0.1 fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
