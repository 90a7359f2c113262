"""Generated media files: every path a seeded item's `thumbnail` can return is a real
image of the size its name says, the same on every run, linked rather than re-encoded."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from PIL import Image
from typer.testing import CliRunner

from gallery_gql.cli import app
from gallery_gql.gallery.thumbnails import best_thumbnail
from gallery_gql.ops.media import files
from gallery_gql.ops.media.files import write_item_media
from gallery_gql.ops.media.images import PATTERNS, ImageStore, draw
from gallery_gql.ops.seed.database import asyncpg_dsn
from gallery_gql.ops.seed.plan import SeedPlan
from gallery_gql.ops.seed.run import seed_database
from gallery_gql.settings import get_settings

ITEMS = 600
FORMATS = {".jpg": "JPEG", ".png": "PNG"}


async def _items(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.set_type_codec("jsonb", encoder=str, decoder=json.loads, schema="pg_catalog")
        rows = []
        for source, table in enumerate(("content_items", "content_items_auto")):
            for row in await conn.fetch(
                f"SELECT id, content_type, content_data, path_thumb, path_thumbs_alt_res"
                f" FROM {table}"
            ):
                rows.append({"source": source, **dict(row)})
        return rows
    finally:
        await conn.close()


def _expected_size(item: dict[str, Any], path: str) -> tuple[int, int]:
    """The model: an alternative is as large as its key says, the plain thumbnail 256
    square, the content 1024 square."""
    for key, alt in (item["path_thumbs_alt_res"] or {}).items():
        if alt == path:
            width, height = key.split("x")
            return int(width), int(height)
    return (256, 256) if path == item["path_thumb"] else (1024, 1024)


def _candidates(item: dict[str, Any]) -> set[str]:
    """Every path `thumbnail` can return for the item: each resolution asked, and none."""
    row = (item["content_data"], item["path_thumb"], item["path_thumbs_alt_res"])
    asked = [None, "256x256", *(item["path_thumbs_alt_res"] or {})]
    return {best_thumbnail(*row, resolution) for resolution in asked}


async def test_every_thumbnail_of_every_item_is_a_real_image(
    database_url: str, tmp_path: Path
) -> None:
    await seed_database(database_url, SeedPlan("genonaut", ITEMS))
    report = await write_item_media(database_url, tmp_path)
    items = await _items(database_url)
    assert report.items == len(items) == ITEMS
    by_inode: dict[int, set[tuple[int, int]]] = defaultdict(set)
    checked = 0
    for item in items:
        for path in _candidates(item):
            if item["content_type"] != "image" and path == item["content_data"]:
                continue  # a video's or text's content: no thumbnail to show (see below)
            file = tmp_path / path.lstrip("/")
            with Image.open(file) as image:
                assert image.format == FORMATS[file.suffix]
                assert image.size == _expected_size(item, path)
                image.load()
            by_inode[file.stat().st_ino].add((item["source"], item["id"]))
            checked += 1
    assert checked >= ITEMS
    # Shared images, hard-linked: a few dozen inodes for all the files.
    assert len(by_inode) <= report.images <= PATTERNS * 4
    assert report.files > 2 * ITEMS
    assert report.skipped == 0


async def test_every_item_has_a_thumbnail_image(database_url: str) -> None:
    """The seed gives every item that is not an image a plain thumbnail, so `thumbnail`
    never falls back to a video, audio or text file."""
    await seed_database(database_url, SeedPlan("zipf", ITEMS))
    items = await _items(database_url)
    others = [item for item in items if item["content_type"] != "image"]
    assert others
    for item in others:
        assert item["path_thumb"] or item["path_thumbs_alt_res"]


async def test_the_same_items_get_the_same_files_on_every_run(
    database_url: str, tmp_path: Path
) -> None:
    await seed_database(database_url, SeedPlan("genonaut", 200))

    def digests(root: Path) -> dict[str, str]:
        return {
            str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in root.rglob("*")
            if path.is_file() and ".generated" not in path.parts
        }

    first = await write_item_media(database_url, tmp_path / "a")
    again = await write_item_media(database_url, tmp_path / "a")  # over existing files
    other = await write_item_media(database_url, tmp_path / "b")
    assert first.generated > 0
    assert again.generated == 0
    assert first.files == again.files == other.files
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert len(set(digests(tmp_path / "a").values())) > 10  # not one picture for all


def test_patterns_are_distinct_and_drawn_at_the_size_asked() -> None:
    pictures = {draw(pattern, 64, 48).tobytes() for pattern in range(PATTERNS)}
    assert len(pictures) == PATTERNS
    assert draw(5, 300, 200).size == (300, 200)
    assert draw(5, 64, 48).tobytes() == draw(5, 64, 48).tobytes()


def test_a_full_image_spills_to_a_fresh_copy(tmp_path: Path) -> None:
    """ext4 allows 65,000 links to one file: past that, links go to a copy."""
    store = ImageStore(tmp_path)
    image = store.get((1, 8, 8, ".png"))
    links = tmp_path / "links"
    links.mkdir()
    limit = 70_000
    refused: int | None = None
    for n in range(limit):
        try:
            os.link(image.path, links / str(n))
        except OSError as exc:
            refused = exc.errno
            break
    if refused is None:
        pytest.skip(f"this file system took {limit:,} links to one file without EMLINK")
    assert refused == errno.EMLINK
    writer = files.MediaWriter(tmp_path)
    writer.store = store
    target = tmp_path / "spilled.png"
    writer._place((1, 8, 8, ".png"), str(target))
    assert image.copies == 2
    assert target.read_bytes() == Path(image.path).read_bytes()
    assert os.stat(target).st_ino == os.stat(image.path).st_ino


runner = CliRunner()


@pytest.mark.parametrize(
    ("flags", "limit", "written"),
    [
        ([], 100_000, True),
        (["--no-media"], 100_000, False),
        ([], 100, False),
        (["--media"], 100, True),
    ],
)
async def test_seed_writes_media_up_to_the_bound_unless_told(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    limit: int,
    written: bool,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GALLERY_GQL_HOME", str(tmp_path))
    monkeypatch.setattr(files, "AUTO_MEDIA_ITEMS", limit)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(runner.invoke, app, ["seed", "--items", "150", *flags])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    media = tmp_path / "media"
    assert media.is_dir() == written
    if written:
        assert "thumbnail files for 150 items" in result.output
        assert any(media.joinpath("data", "thumbs").rglob("*.jpg"))
    elif not flags:
        assert "no thumbnail files: more than 100 items" in result.output
