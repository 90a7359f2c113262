"""An item's fields read from its columns (api/documents/item_rows.py) complete to what
the `ContentItem` built from the same columns gives, field for field: the compiled path
renders pages from rows, the general executor from `ContentItem`s."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLObjectType
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.api.documents.item_rows import (
    READ_COLUMNS,
    READERS,
    THUMBNAIL_COLUMNS,
    item_columns,
    item_key,
    tag_ids,
    thumbnail_reader,
)
from gallery_gql.api.documents.plans import Compiler, completed
from gallery_gql.api.schema import build_schema
from gallery_gql.api.types.content import ContentItem, thumbnail_resolver
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.lookups import item_from_columns
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.settings import Settings

SCHEMA = build_schema(Settings(secret="s" * 32))
ITEM_TYPE = SCHEMA._schema.get_type("ContentItem")
assert isinstance(ITEM_TYPE, GraphQLObjectType)
ITEM_FIELDS = ITEM_TYPE.fields
COMPILER = Compiler(SCHEMA._schema, {}, SCHEMA.config.name_converter)
RESOLUTIONS = ["512x512", "1024x1024", "64x64", "bogus"]

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=40,
)
paths = st.sampled_from(["a/b.png", "/x/y.jpg", "../up.png", "https://cdn/x.png", "", "a b"])


@st.composite
def item_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A page statement's row, as columns by name (what an asyncpg record gives)."""
    return {
        "source": draw(st.sampled_from([int(s) for s in Source])),
        "id": draw(st.integers(1, 2**40)),
        "title": draw(st.text(max_size=20)),
        "content_type": draw(st.sampled_from(["image", "video", "text"])),
        "content_data": draw(paths),
        "path_thumb": draw(st.none() | paths),
        "path_thumbs_alt_res": draw(
            st.none() | st.dictionaries(st.sampled_from(RESOLUTIONS), paths, max_size=3)
        ),
        "prompt": draw(st.text(max_size=20)),
        "item_metadata": draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3)),
        "creator_id": draw(st.uuids()),
        "quality_score": draw(st.floats(allow_nan=True, allow_infinity=True)),
        "is_private": draw(st.booleans()),
        "created_at": draw(moments),
        "updated_at": draw(moments),
        "tags": draw(st.lists(st.uuids(), max_size=4)),
        "version": draw(st.integers(0, 2**33)),
    }


def _outcome(complete: Any, obj: Any) -> tuple[str, Any]:
    try:
        value = complete(obj)
    except Exception:  # a fallback, or the scalar's refusal: the executor answers
        return "refused", None
    if isinstance(value, float) and math.isnan(value):
        return "value", "nan"
    return "value", value


@pytest.mark.parametrize("name", sorted(READERS))
@given(row=item_rows())
def test_a_field_from_columns_is_the_items_field(name: str, row: dict[str, Any]) -> None:
    field = ITEM_FIELDS[name]
    from_columns = completed(READERS[name], field.type)
    from_item = completed(COMPILER.resolver("ContentItem", name), field.type)
    item = ContentItem(record=item_from_columns(row))
    assert _outcome(from_columns, row) == _outcome(from_item, item)
    # the item view renders a record as its columns: the same again
    assert _outcome(from_columns, item_columns(item.record)) == _outcome(from_item, item)


@given(
    row=item_rows(),
    prefix=st.sampled_from([None, "/media/", "https://cdn.example/m/"]),
    resolution=st.none() | st.sampled_from(RESOLUTIONS),
)
def test_the_thumbnail_from_columns_is_the_items(
    row: dict[str, Any], prefix: str | None, resolution: str | None
) -> None:
    item = ContentItem(record=item_from_columns(row))
    expected = thumbnail_resolver(prefix)(item, None, resolution)
    assert thumbnail_reader(prefix, resolution)(row) == expected


@given(row=item_rows())
def test_key_and_tags_from_columns_are_the_records(row: dict[str, Any]) -> None:
    record = item_from_columns(row)
    assert item_key(row) == record.key
    assert tag_ids(row) == record.tags
    untagged = {key: value for key, value in row.items() if key != "tags"}
    assert tag_ids(untagged) is None
    assert item_columns(record)["tags"] == record.tags


def test_every_plain_item_field_reads_from_columns() -> None:
    """The fields without arguments that are not objects all compile from columns (a new
    one without a reader would send the grid to the general executor)."""
    plain = {
        name
        for name, field in ITEM_FIELDS.items()
        if not field.args and name not in ("creator", "tags")
    }
    assert plain == set(READERS) == set(READ_COLUMNS)


@given(row=item_rows())
def test_columns_are_the_records_fields(row: dict[str, Any]) -> None:
    assert set(item_columns(item_from_columns(row))) == set(ItemRecord.__dataclass_fields__)


@pytest.mark.parametrize("name", sorted(READERS))
@given(row=item_rows())
def test_a_reader_reads_only_its_columns(name: str, row: dict[str, Any]) -> None:
    """A page statement reads only the columns its fields' readers name (`READ_COLUMNS`)."""
    only = {column: row[column] for column in READ_COLUMNS[name]}
    assert _outcome(READERS[name], only) == _outcome(READERS[name], row)


@given(row=item_rows(), resolution=st.none() | st.sampled_from(RESOLUTIONS))
def test_the_thumbnail_reads_only_its_columns(row: dict[str, Any], resolution: str | None) -> None:
    read = thumbnail_reader("/media/", resolution)
    assert read({column: row[column] for column in THUMBNAIL_COLUMNS}) == read(row)
