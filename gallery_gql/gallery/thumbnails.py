"""Choosing the best thumbnail path for an item, and the URL it is loaded from."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote

_RESOLUTION = re.compile(r"^(\d{1,5})x(\d{1,5})$")
# A stored path that needs no escaping, no dot segment (`.`, `..`, hidden names) and no
# empty one: the common case, joined to the prefix as it is (group 1: without the
# leading slashes). Anything else takes the general path, which gives the same for these.
_PLAIN_PATH = re.compile(r"/*([\w~-][\w.~-]*(?:/[\w~-][\w.~-]*)*)", re.ASCII)
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)


def parse_resolution(resolution: str) -> tuple[int, int] | None:
    """`512x512` as (width, height); None for anything else."""
    match = _RESOLUTION.match(resolution)
    return (int(match[1]), int(match[2])) if match else None


def _pixels(resolution: str) -> int:
    size = parse_resolution(resolution)
    return size[0] * size[1] if size else -1


def best_thumbnail(
    content_data: str,
    path_thumb: str | None,
    alt_res: dict[str, str] | None,
    resolution: str | None = None,
) -> str:
    """The requested resolution if present, else the largest alternative resolution,
    else the plain thumbnail, else the content itself."""
    if alt_res:
        if resolution is not None:
            requested = alt_res.get(resolution)
            if requested:
                return requested
        largest = _largest(tuple(key for key, path in alt_res.items() if path))
        if largest is not None:
            return alt_res[largest]
    return path_thumb or content_data


@lru_cache(maxsize=256)
def _largest(keys: tuple[str, ...]) -> str | None:
    """The key of most pixels (ties: the greatest key). Items share a handful of key sets
    (`512x512`, `1024x1024`, ...), so the answer is kept per set: this runs for every item
    of a grid page."""
    return max(keys, key=lambda key: (_pixels(key), key)) if keys else None


MediaLocator = Callable[[str], str]


def media_locator(prefix: str | None) -> MediaLocator:
    """The function turning a stored media path into the URL a browser loads.

    Stored paths are paths under the media root; a leading `/` is ignored. With a prefix
    (`/media/`, or a CDN's base URL ending in `/`) the URL is the prefix + the path,
    percent-encoded, its dot segments resolved without ever climbing above the prefix.
    A stored absolute http(s) URL is returned as it is. Without a prefix, paths are
    returned as stored."""
    if prefix is None:
        return _as_stored

    def locate(path: str) -> str:
        plain = _PLAIN_PATH.fullmatch(path)
        if plain is not None:
            return prefix + plain[1]
        inside = path_in_media_root(path)
        return path if inside is None else prefix + quote(inside, safe="/")

    return locate


def path_in_media_root(path: str) -> str | None:
    """Where a stored path's file lives under the media root (relative, `/`-separated,
    dot segments resolved without climbing above the root); None for a stored web URL."""
    if _WEB_URL.match(path):
        return None
    return posixpath.normpath("/" + path).lstrip("/")


def _as_stored(path: str) -> str:
    return path
