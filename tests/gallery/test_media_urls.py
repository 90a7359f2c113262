"""media_locator: a stored media path as the URL a browser loads, never above the prefix."""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.gallery.thumbnails import media_locator

PREFIX = "/media/"
CDN = "https://cdn.example.com/gallery/"


def _inside(path: str) -> str:
    """The model: the path's segments with empty and `.` ones dropped and each `..`
    removing the one before it, never more than there are."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    return "/".join(kept)


@pytest.mark.parametrize(
    ("stored", "url"),
    [
        ("/data/thumbs/auto/17_512x512.png", "/media/data/thumbs/auto/17_512x512.png"),
        ("data/thumbs/17.jpg", "/media/data/thumbs/17.jpg"),
        ("//data//thumbs/17.jpg", "/media/data/thumbs/17.jpg"),
        ("/a b/c#d?e%f.png", "/media/a%20b/c%23d%3Fe%25f.png"),
        ("/thumbs/ünï.png", "/media/thumbs/%C3%BCn%C3%AF.png"),
        ("/../../etc/passwd", "/media/etc/passwd"),
        ("/a/./b/../../../c.png", "/media/c.png"),
        ("/%2e%2e/x.png", "/media/%252e%252e/x.png"),
        ("javascript:alert(1)", "/media/javascript%3Aalert%281%29"),
        ("https://elsewhere.example/x.png", "https://elsewhere.example/x.png"),
        ("HTTP://elsewhere.example/x.png", "HTTP://elsewhere.example/x.png"),
    ],
)
def test_paths_become_urls_under_the_prefix(stored: str, url: str) -> None:
    assert media_locator(PREFIX)(stored) == url


def test_a_cdn_base_url_prefixes_the_same_way() -> None:
    locate = media_locator(CDN)
    assert locate("/data/thumbs/1.jpg") == CDN + "data/thumbs/1.jpg"
    assert locate("/../x.png") == CDN + "x.png"


def test_without_a_prefix_paths_are_returned_as_stored() -> None:
    locate = media_locator(None)
    for stored in ("/data/thumbs/1.jpg", "/../x", "a b"):
        assert locate(stored) == stored


_PATHS = st.text(alphabet="/.a~-_ %#?:é\\", max_size=24)


@given(_PATHS)
def test_every_path_stays_below_the_prefix_as_a_browser_resolves_it(stored: str) -> None:
    url = media_locator(PREFIX)(stored)
    resolved = urlsplit(urljoin("http://gallery.test/", url))
    assert resolved.netloc == "gallery.test"
    assert resolved.path.startswith(PREFIX)
    suffix = resolved.path[len(PREFIX) :]
    assert all(unquote(segment) not in (".", "..") for segment in suffix.split("/"))
    assert unquote(suffix) == _inside(stored)
    assert not resolved.query
    assert not resolved.fragment


@given(_PATHS)
def test_the_fast_path_agrees_with_the_general_one(stored: str) -> None:
    """Plain paths skip the escaping; whatever path a plain one takes, the URL is the
    escaped model path."""
    assert media_locator(PREFIX)(stored) == PREFIX + quote(_inside(stored), safe="/")
