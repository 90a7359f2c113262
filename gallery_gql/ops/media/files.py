"""Real files behind the demo's media paths: every path an item's `thumbnail` can return.

For each item in the database: its plain thumbnail (`path_thumb`), each of its
alternative resolutions (`path_thumbs_alt_res`, at that resolution) and, for an image,
its content file (`content_data`: the thumbnail of last resort). Each file is a hard link
to the generated image of the item's pattern at that size (ops/media/images.py), so
20,000 items cost a few dozen encodes and ~70,000 links, not ~70,000 encodes; where hard
links are not possible (another file system, or one without them) the image is copied.
Files land where `thumbnail`'s URL points (`path_in_media_root`); an existing file at a
path is replaced. Paths with an extension the demo does not encode, resolutions above
`MAX_SIDE` and stored web URLs are skipped and counted.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from gallery_gql.gallery.thumbnails import parse_resolution, path_in_media_root
from gallery_gql.ops.media.images import FORMATS, ImageKey, ImageStore, pattern_of
from gallery_gql.ops.seed.database import asyncpg_dsn

Progress = Callable[[str, int, int], None]

THUMB_SIZE = (256, 256)
"""A plain thumbnail (`path_thumb`)."""
CONTENT_SIZE = (1024, 1024)
"""An image item's content file."""
MAX_SIDE = 4096
"""Alternative resolutions wider or taller are not generated (a bound on any one file)."""
AUTO_MEDIA_ITEMS = 100_000
"""`seed` writes media up to this many items unless told (`--media/--no-media`). At
100,000 items it wrote 331,789 files in 9-14 s (13 MB, mostly directory entries) beside
a 30-35 s database seed; the benchmarks' 1.17M items would take about twelve times that
for files no benchmark reads (docs/decisions.md)."""
BATCH = 5000
TABLES = ((0, "content_items"), (1, "content_items_auto"))
_ROWS_SQL = (
    "SELECT id, content_type, content_data, path_thumb, path_thumbs_alt_res::text AS alts"
    " FROM {table} ORDER BY id"
)
_NO_LINKS = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP}


@dataclass(frozen=True)
class MediaReport:
    items: int
    files: int
    """Paths written (each a link to, or a copy of, a generated image)."""
    images: int
    """Distinct generated images the files share."""
    generated: int
    """Of those, encoded by this run (the rest were in the store already)."""
    skipped: int
    """Paths not written: unknown extension, resolution above MAX_SIDE, web URL, a
    hidden name (never served)."""
    image_bytes: int
    seconds: float

    def summary(self, root: Path) -> str:
        return (
            f"wrote {self.files:,} thumbnail files for {self.items:,} items under {root} in "
            f"{self.seconds:.1f}s ({self.images} distinct images, {self.generated} generated "
            f"now, {self.image_bytes / 1e6:.1f} MB; {self.skipped:,} paths skipped)"
        )


def wanted_files(
    content_type: str, content_data: str, path_thumb: str | None, alts: dict[str, Any] | None
) -> Iterator[tuple[str, tuple[int, int] | None]]:
    """(stored path, size) for each file an item's thumbnail can point at; size None
    where the resolution key is not one the demo generates."""
    if path_thumb:
        yield path_thumb, THUMB_SIZE
    for resolution, path in (alts or {}).items():
        if isinstance(path, str) and path:
            size = parse_resolution(resolution)
            yield path, size if size and max(size) <= MAX_SIDE else None
    if content_type == "image" and content_data:
        yield content_data, CONTENT_SIZE


class MediaWriter:
    """Places items' files under a media root, linking each to its generated image."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.store = ImageStore(root)
        self.files = 0
        self.skipped = 0
        self._made_dirs: set[str] = set()
        self._copy_only = False

    def place_item(self, source: int, item_id: int, wanted: Iterator[Any]) -> None:
        pattern = pattern_of(source, item_id)
        for stored, size in wanted:
            relative = path_in_media_root(stored)
            extension = os.path.splitext(relative or "")[1].lower()
            hidden = relative is not None and any(p.startswith(".") for p in relative.split("/"))
            if size is None or not relative or hidden or extension not in FORMATS:
                self.skipped += 1
                continue
            self._place((pattern, size[0], size[1], extension), os.path.join(self.root, relative))
            self.files += 1

    def _place(self, key: ImageKey, target: str) -> None:
        directory = os.path.dirname(target)
        if directory not in self._made_dirs:
            os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)
        image = self.store.get(key)
        source = image.path
        if self._copy_only:
            shutil.copyfile(source, target)
            return
        for _ in range(3):  # at most: replace an existing file, then spill a full copy
            try:
                os.link(source, target)
                return
            except FileExistsError:
                os.unlink(target)
            except OSError as exc:
                if exc.errno == errno.EMLINK:
                    source = image.spill()
                elif exc.errno in _NO_LINKS:
                    self._copy_only = True
                    shutil.copyfile(source, target)
                    return
                else:
                    raise
        os.link(source, target)


def _ignore(_stage: str, _done: int, _total: int) -> None:
    return None


async def write_item_media(url: str, root: Path, progress: Progress | None = None) -> MediaReport:
    """Write the files of every item in the database at `url` under `root`."""
    report = progress or _ignore
    started = time.perf_counter()
    writer = MediaWriter(root)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        total = 0
        for _, table in TABLES:
            total += await conn.fetchval(f"SELECT count(*) FROM {table}")
        done = 0
        report("media", 0, total)
        for source, table in TABLES:
            async with conn.transaction(readonly=True):
                rows = conn.cursor(_ROWS_SQL.format(table=table), prefetch=BATCH)
                async for row in rows:
                    alts = orjson.loads(row["alts"]) if row["alts"] else None
                    wanted = wanted_files(
                        row["content_type"], row["content_data"], row["path_thumb"], alts
                    )
                    writer.place_item(source, row["id"], wanted)
                    done += 1
                    if done % BATCH == 0:
                        report("media", done, total)
        report("media", done, total)
    finally:
        await conn.close()
    return MediaReport(
        items=done,
        files=writer.files,
        images=len(writer.store.stored),
        generated=writer.store.generated,
        skipped=writer.skipped,
        image_bytes=writer.store.bytes_on_disk(),
        seconds=time.perf_counter() - started,
    )
