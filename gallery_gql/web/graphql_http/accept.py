"""The response's media type, chosen from the request's `Accept` header.

GraphQL over HTTP has two: `application/graphql-response+json`, whose status codes say
whether the operation ran, and `application/json`, the legacy one (200 for every
well-formed request). A client that sends no `Accept`, or accepts anything (`*/*`,
`application/*`), gets `application/json`, as clients written before the newer type
expect. Of the two, the one the client gives the higher quality wins; between equals, the
one it lists first.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache


class ResponseMedia(StrEnum):
    JSON = "application/json"
    GRAPHQL_RESPONSE = "application/graphql-response+json"

    @property
    def content_type(self) -> str:
        # application/json defines no charset parameter (it is always UTF-8); the newer
        # type is written as the GraphQL-over-HTTP specification writes it.
        if self is ResponseMedia.JSON:
            return self.value
        return f"{self.value}; charset=utf-8"


_WILDCARDS = ("*/*", "application/*")


def negotiate(accept: str | None) -> ResponseMedia | None:
    """The media type to answer in, or None when the client accepts neither (406)."""
    if accept is not None and len(accept) > CACHED_HEADER_LENGTH:
        return _negotiate(accept)
    return _negotiate_cached(accept)


# Clients send few distinct headers, and parsing one costs ~6 us; the cache holds at most
# 256 short ones.
CACHED_HEADER_LENGTH = 256


@lru_cache(maxsize=256)
def _negotiate_cached(accept: str | None) -> ResponseMedia | None:
    return _negotiate(accept)


def _negotiate(accept: str | None) -> ResponseMedia | None:
    if accept is None or not accept.strip():
        return ResponseMedia.JSON
    best: tuple[float, int, int] | None = None  # quality, exact (1) or wildcard (0), -position
    chosen: ResponseMedia | None = None
    for position, (media_range, quality) in enumerate(_ranges(accept)):
        if quality <= 0:
            continue
        for media in _matches(media_range):
            rank = (quality, int(media_range == media.value), -position)
            if best is None or rank > best:
                best, chosen = rank, media
    return chosen


def _matches(media_range: str) -> tuple[ResponseMedia, ...]:
    if media_range in _WILDCARDS:
        return (ResponseMedia.JSON,)
    for media in ResponseMedia:
        if media_range == media.value:
            return (media,)
    return ()


def _ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, quality) for each entry of the header; a range that asks for a
    charset other than UTF-8 is one we cannot serve (quality 0)."""
    ranges = []
    for entry in accept.split(","):
        media_range, *parameters = (part.strip() for part in entry.split(";"))
        quality, servable = 1.0, True
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"').lower()
            if name == "q":
                quality = _quality(value)
            elif name == "charset":
                servable = value in ("utf-8", "utf8")
        ranges.append((media_range.lower(), quality if servable else 0.0))
    return ranges


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0
