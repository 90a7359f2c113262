"""Choosing the best thumbnail path for an item."""

from __future__ import annotations

import re

_RESOLUTION = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def _pixels(resolution: str) -> int:
    match = _RESOLUTION.match(resolution)
    return int(match[1]) * int(match[2]) if match else -1


def best_thumbnail(
    content_data: str,
    path_thumb: str | None,
    alt_res: dict[str, str] | None,
    resolution: str | None = None,
) -> str:
    """The requested resolution if present, else the largest alternative resolution,
    else the plain thumbnail, else the content itself."""
    alternatives = {key: path for key, path in (alt_res or {}).items() if path}
    if resolution is not None and resolution in alternatives:
        return alternatives[resolution]
    if alternatives:
        return alternatives[max(alternatives, key=lambda key: (_pixels(key), key))]
    return path_thumb or content_data
