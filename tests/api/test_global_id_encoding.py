"""Items' global ids and sources, as ContentItem builds them, against a plain model:
base64 of "ContentItem:<SOURCE>:<id>", and the GraphQL enum of the same name."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.api.global_id import (
    decode_global_id,
    decode_item_key,
    encode_global_id,
    item_global_id,
    item_global_id_of,
)
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.gallery.keys import ItemKey, Source

ids = st.integers(min_value=1, max_value=2**31 - 1)  # the ids decode_item_key accepts


@given(st.sampled_from(list(Source)), ids)
def test_item_ids_are_base64_of_type_source_and_id(source: Source, item_id: int) -> None:
    expected = base64.b64encode(f"ContentItem:{source.name}:{item_id}".encode()).decode()
    assert item_global_id_of(source, item_id) == expected
    assert item_global_id(ItemKey(source, item_id)) == expected
    type_name, key = decode_global_id(expected)
    assert type_name == "ContentItem"
    assert decode_item_key(key) == ItemKey(source, item_id)


@given(st.text(max_size=40), st.text(max_size=80))
def test_global_ids_are_base64_of_type_and_key(type_name: str, key: str) -> None:
    expected = base64.b64encode(f"{type_name}:{key}".encode()).decode()
    assert encode_global_id(type_name, key) == expected


def test_sources_map_to_the_enum_of_the_same_name() -> None:
    for source in Source:
        assert ContentSource.from_domain(source) is ContentSource[source.name]
        assert ContentSource.from_domain(source).to_domain() is source
