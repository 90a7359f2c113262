"""best_thumbnail: the requested resolution, else the largest alternative, else the plain
thumbnail, else the content itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.gallery.thumbnails import best_thumbnail

CONTENT = "/data/1.png"
THUMB = "/thumbs/1.png"
ALTS = {"256x256": "/t/256.png", "1024x1024": "/t/1024.png", "512x512": "/t/512.png"}


def _best(
    alt_res: dict[str, str] | None,
    resolution: str | None = None,
    path_thumb: str | None = THUMB,
) -> str:
    return best_thumbnail(CONTENT, path_thumb, alt_res, resolution)


@pytest.mark.parametrize("resolution", ["256x256", "512x512", "1024x1024"])
def test_requested_resolution_wins(resolution: str) -> None:
    assert _best(ALTS, resolution) == ALTS[resolution]


@pytest.mark.parametrize("resolution", [None, "2048x2048", "", "512X512", " 512x512"])
def test_otherwise_the_largest_by_pixels_not_by_text(resolution: str | None) -> None:
    assert _best(ALTS, resolution) == "/t/1024.png"  # "512x512" > "1024x1024" as text


def test_pixels_not_width_decide() -> None:
    alts = {"2000x100": "/wide.png", "600x600": "/square.png", "99999x1": "/strip.png"}
    assert _best(alts) == "/square.png"


def test_equal_pixels_break_ties_by_key_whatever_the_order() -> None:
    alts = {"512x2048": "/tall.png", "1024x1024": "/square.png", "2048x512": "/wide.png"}
    for ordering in (alts, dict(reversed(alts.items()))):
        assert _best(ordering) == "/tall.png"  # same pixels: the greatest key, "512x2048"


def test_well_formed_beats_malformed_keys() -> None:
    alts = {"large": "/large.png", "1x1": "/tiny.png", "999999x999999": "/huge.png"}
    assert _best(alts) == "/tiny.png"  # six digits is not a resolution we read


def test_only_malformed_keys_still_choose_one_deterministically() -> None:
    alts = {"large": "/large.png", "medium": "/medium.png", "hd": "/hd.png"}
    assert _best(alts) == "/medium.png"
    assert _best(dict(reversed(alts.items()))) == "/medium.png"
    assert _best(alts, "hd") == "/hd.png"


def test_empty_paths_are_not_alternatives() -> None:
    alts = {"1024x1024": "", "512x512": "/t/512.png"}
    assert _best(alts) == "/t/512.png"
    assert _best(alts, "1024x1024") == "/t/512.png"
    assert _best({"1024x1024": ""}) == THUMB
    assert _best({"1024x1024": ""}, path_thumb=None) == CONTENT


@pytest.mark.parametrize("alt_res", [None, {}])
def test_without_alternatives_the_plain_thumbnail(alt_res: dict[str, str] | None) -> None:
    assert _best(alt_res) == THUMB
    assert _best(alt_res, "512x512") == THUMB


@pytest.mark.parametrize("path_thumb", [None, ""])
def test_without_any_thumbnail_the_content_itself(path_thumb: str | None) -> None:
    assert _best(None, path_thumb=path_thumb) == CONTENT
    assert _best({}, "512x512", path_thumb=path_thumb) == CONTENT


def test_alternatives_beat_the_plain_thumbnail() -> None:
    assert _best({"64x64": "/t/64.png"}) == "/t/64.png"


def test_arguments_are_not_modified() -> None:
    alts = {"1024x1024": "", "512x512": "/t/512.png"}
    _best(alts, "1024x1024")
    assert alts == {"1024x1024": "", "512x512": "/t/512.png"}


_SIDES = st.sampled_from([1, 64, 256, 512, 1024, 2048, 99999])
_RESOLUTIONS = st.builds("{}x{}".format, _SIDES, _SIDES)  # many equal-pixel ties
_NAMES = st.text(alphabet="abhx-", max_size=4)  # never a resolution
_KEYS = st.one_of(_RESOLUTIONS, _NAMES)
_PATHS = st.sampled_from(["", "/a.png", "/b.png", "/c.png", "/d.png"])


def _pixels(key: str) -> int:
    width, _, height = key.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else -1


@given(
    alts=st.one_of(st.none(), st.dictionaries(_KEYS, _PATHS, max_size=6)),
    resolution=st.one_of(st.none(), _KEYS),
    path_thumb=st.one_of(st.none(), st.just(""), st.just(THUMB)),
)
def test_always_the_best_candidate_in_priority_order(
    alts: dict[str, str] | None, resolution: str | None, path_thumb: str | None
) -> None:
    result = best_thumbnail(CONTENT, path_thumb, alts, resolution)
    usable = {key: path for key, path in (alts or {}).items() if path}
    if resolution in usable:
        assert result == usable[resolution]
    elif usable:
        most = max(map(_pixels, usable))
        assert result in {path for key, path in usable.items() if _pixels(key) == most}
        assert _best(dict(reversed(usable.items())), None, path_thumb) == result
    else:
        assert result == (path_thumb or CONTENT)
