"""Generated demo images: a few distinct pictures, encoded once per size, kept in a store.

Each of `PATTERNS` patterns is a banded diagonal gradient under a handful of discs, its
colours and discs drawn from a generator seeded by the pattern's number, so the same
pattern always gives the same picture. Pillow draws it at the exact size asked (shapes
stay sharp at every resolution) in a 16-colour palette: flat areas, so a 2048x2048 PNG is
tens of kilobytes and encodes in tens of milliseconds. JPEG and WebP files are encoded
from the same picture in RGB.

The store (`<media root>/.generated/v<GENERATION>/`, a hidden name the media route never
serves) holds each (pattern, size, format) once; items' files are hard links to it
(ops/media/files.py). A file system allows only so many links to one file (ext4: 65,000),
so `StoredImage.spill` makes a fresh copy when one is full.
"""

from __future__ import annotations

import colorsys
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

PATTERNS = 32
GENERATION = 1
"""Bump when the drawing changes: the store's files are named by it."""
STORE_DIR = f".generated/v{GENERATION}"
BANDS = 10
DISCS = 5
# Pillow's format name and options for each file extension the demo writes.
FORMATS = {
    ".png": ("PNG", {"compress_level": 3}),
    ".jpg": ("JPEG", {"quality": 85}),
    ".jpeg": ("JPEG", {"quality": 85}),
    ".webp": ("WEBP", {"quality": 80}),
}


def pattern_of(source: int, item_id: int) -> int:
    """The pattern an item shows: a fixed multiplicative hash of its identity."""
    return ((item_id * 2_654_435_761 + source * 40_503) & 0xFFFF_FFFF) % PATTERNS


def _rgb(hue: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def draw(pattern: int, width: int, height: int) -> Image.Image:
    """Pattern `pattern` at width x height, in a palette image."""
    rng = random.Random(pattern)  # noqa: S311  # a picture, not a secret
    hue = rng.random()
    palette: list[int] = []
    for band in range(BANDS):
        share = band / (BANDS - 1)
        palette.extend(_rgb(hue + 0.15 * share, 0.55, 0.28 + 0.37 * share))
    for disc in range(DISCS):
        palette.extend(_rgb(hue + 0.45 + 0.05 * disc, 0.6, 0.5 + 0.07 * disc))
    image = Image.new("P", (width, height), 0)
    image.putpalette(palette)
    canvas = ImageDraw.Draw(image)
    step = (width + height) / BANDS
    for band in range(BANDS):  # the band where x + y falls in [low, high)
        low, high = band * step, (band + 1) * step
        canvas.polygon([(low, 0), (high, 0), (0, high), (0, low)], fill=band)
    side = min(width, height)
    for disc in range(DISCS):
        x, y = rng.random() * width, rng.random() * height
        radius = (0.06 + rng.random() * 0.18) * side
        canvas.ellipse([x - radius, y - radius, x + radius, y + radius], fill=BANDS + disc)
    return image


def encode(image: Image.Image, extension: str, target: Path) -> None:
    """Write `image` to `target` in the format its extension names, atomically."""
    name, options = FORMATS[extension]
    picture = image if name == "PNG" else image.convert("RGB")
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            picture.save(out, name, **options)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


ImageKey = tuple[int, int, int, str]
"""(pattern, width, height, file extension)."""


class StoredImage:
    """One generated image in the store; `path` is the copy items link to now."""

    def __init__(self, key: ImageKey, directory: Path) -> None:
        self.key = key
        self.directory = directory
        self.copies = 1
        self.path = self._copy_path()

    def _copy_path(self) -> str:
        pattern, width, height, extension = self.key
        suffix = "" if self.copies == 1 else f".{self.copies}"
        return os.path.join(self.directory, f"p{pattern}-{width}x{height}{suffix}{extension}")

    def spill(self) -> str:
        """The current copy cannot take another link: link to a fresh copy from now on."""
        first = self.path
        self.copies += 1
        self.path = self._copy_path()
        if not os.path.exists(self.path):
            shutil.copyfile(first, self.path)
        return self.path


@dataclass
class ImageStore:
    """The generated images under a media root, made on first use and then reused,
    also across seeds (their names carry the pattern, size and GENERATION)."""

    root: Path
    generated: int = 0
    stored: dict[ImageKey, StoredImage] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return self.root / STORE_DIR

    def get(self, key: ImageKey) -> StoredImage:
        found = self.stored.get(key)
        if found is None:
            found = StoredImage(key, self.directory)
            if not os.path.exists(found.path):
                self.directory.mkdir(parents=True, exist_ok=True)
                pattern, width, height, extension = key
                encode(draw(pattern, width, height), extension, Path(found.path))
                self.generated += 1
            self.stored[key] = found
        return found

    def bytes_on_disk(self) -> int:
        return sum(os.stat(image.path).st_size * image.copies for image in self.stored.values())
