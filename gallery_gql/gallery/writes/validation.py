"""Checks of write inputs before anything is written: each problem named with its field."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import orjson

from gallery_gql.gallery.json_depth import MAX_METADATA_DEPTH, json_depth
from gallery_gql.gallery.tag_tree import MAX_NAME_LENGTH
from gallery_gql.gallery.writes.errors import FieldProblem
from gallery_gql.gallery.writes.inputs import ItemChanges, NewItem
from gallery_gql.gallery.writes.limits import (
    MAX_ALT_RESOLUTIONS,
    MAX_METADATA_BYTES,
    MAX_PATH_LENGTH,
    MAX_PROMPT_LENGTH,
    MAX_TAG_VALUES,
    MAX_TITLE_LENGTH,
)

CONTENT_TYPES = ("image", "video", "audio", "text")


def _text_problems(
    name: str, value: object, maximum: int, *, nullable: bool = False, blank: bool = True
) -> list[FieldProblem]:
    if value is None:
        return [] if nullable else [FieldProblem(name, f"`{name}` must not be null")]
    if not isinstance(value, str):
        return [FieldProblem(name, f"`{name}` must be a string")]
    if len(value) > maximum:
        return [FieldProblem(name, f"`{name}` is limited to {maximum} characters")]
    if "\x00" in value:
        return [FieldProblem(name, f"`{name}` must not contain NUL characters")]
    if not blank and not value.strip():
        return [FieldProblem(name, f"`{name}` must not be blank")]
    return []


def _json_problems(name: str, value: object) -> list[FieldProblem]:
    if json_depth(value) > MAX_METADATA_DEPTH:
        return [FieldProblem(name, f"`{name}` nests at most {MAX_METADATA_DEPTH} levels deep")]
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return [FieldProblem(name, f"`{name}` must be JSON")]
    if len(encoded) > MAX_METADATA_BYTES:
        return [FieldProblem(name, f"`{name}` is limited to {MAX_METADATA_BYTES} bytes of JSON")]
    if b"\\u0000" in encoded:
        return [FieldProblem(name, f"`{name}` must not contain NUL characters")]
    return []


def _alt_res_problems(value: object) -> list[FieldProblem]:
    name = "path_thumbs_alt_res"
    if value is None:
        return []
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return [FieldProblem(name, f"`{name}` must map resolutions to paths (strings)")]
    if len(value) > MAX_ALT_RESOLUTIONS:
        return [FieldProblem(name, f"`{name}` takes at most {MAX_ALT_RESOLUTIONS} entries")]
    for key, path in value.items():
        problems = _text_problems(name, key, 64) + _text_problems(name, path, MAX_PATH_LENGTH)
        if problems:
            return problems[:1]
    return []


def _field_problems(name: str, value: Any) -> list[FieldProblem]:
    """Problems of one field's new value (shared by create and update)."""
    if name == "title":
        return _text_problems(name, value, MAX_TITLE_LENGTH, blank=False)
    if name == "content_type":
        if value not in CONTENT_TYPES:
            allowed = ", ".join(CONTENT_TYPES)
            return [FieldProblem(name, f"`content_type` must be one of {allowed}")]
        return []
    if name == "content_data":
        return _text_problems(name, value, MAX_PATH_LENGTH, blank=False)
    if name == "path_thumb":
        return _text_problems(name, value, MAX_PATH_LENGTH, nullable=True, blank=False)
    if name == "path_thumbs_alt_res":
        return _alt_res_problems(value)
    if name == "prompt":
        return _text_problems(name, value, MAX_PROMPT_LENGTH)
    if name == "item_metadata":
        if not isinstance(value, dict):
            return [FieldProblem(name, "`metadata` must be a JSON object")]
        return _json_problems(name, value)
    if name == "quality_score":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return [FieldProblem(name, "`quality_score` must be a number")]
        if not 0 <= value <= 1:
            return [FieldProblem(name, "`quality_score` must be between 0 and 1")]
        return []
    if name == "is_private":
        return [] if isinstance(value, bool) else [FieldProblem(name, "`is_private` must be set")]
    raise ValueError(f"unknown field {name}")


_NEW_ITEM_FIELDS = (
    "title",
    "content_type",
    "content_data",
    "path_thumb",
    "path_thumbs_alt_res",
    "prompt",
    "item_metadata",
    "quality_score",
    "is_private",
)


def new_item_problems(item: NewItem) -> list[FieldProblem]:
    """Everything wrong with a new item's fields (tags aside)."""
    return [p for name in _NEW_ITEM_FIELDS for p in _field_problems(name, getattr(item, name))]


def changes_problems(changes: ItemChanges) -> list[FieldProblem]:
    given = changes.given()
    if not given:
        return [FieldProblem(None, "give at least one field to change")]
    return [p for name, value in given.items() for p in _field_problems(name, value)]


def tag_list_problems(name: str, values: Sequence[str] | None) -> list[FieldProblem]:
    if values is None:
        return []
    if len(values) > MAX_TAG_VALUES:
        return [FieldProblem(name, f"`{name}` takes at most {MAX_TAG_VALUES} values")]
    # No tag is named longer (a UUID is shorter): such a value is refused before it is
    # looked up, and never echoed back in an "unknown tags" error.
    if any(len(value) > MAX_NAME_LENGTH for value in values):
        return [FieldProblem(name, f"a tag in `{name}` is at most {MAX_NAME_LENGTH} characters")]
    return []
