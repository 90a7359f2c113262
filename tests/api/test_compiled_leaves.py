"""A compiled leaf completes as graphql-core does: the same value, or a refusal where
graphql-core's scalar refuses (which the compiled path turns into a fallback)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLString,
    Undefined,
)
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.api.documents.plans import Fallback, completed
from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings

VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@pytest.mark.parametrize(
    "scalar", [GraphQLString, GraphQLID, GraphQLInt, GraphQLFloat, GraphQLBoolean]
)
@given(value=VALUES)
def test_a_leaf_completes_as_graphql_core_does(scalar: GraphQLLeafType, value: Any) -> None:
    complete = completed(lambda obj: obj, GraphQLNonNull(scalar))
    try:
        expected = scalar.coerce_output_value(value)
    except Exception:  # graphql-core refuses: the compiled path must not answer
        with pytest.raises(Exception):  # noqa: B017 - its own refusal, or Fallback
            complete(value)
        return
    got = complete(value)
    assert type(got) is type(expected)
    assert got == expected or (got != got and expected != expected)


def test_null_for_a_non_null_leaf_falls_back() -> None:
    with pytest.raises(Fallback):
        completed(lambda obj: obj, GraphQLNonNull(GraphQLString))(None)
    assert completed(lambda obj: obj, GraphQLString)(None) is None


SCHEMA = build_schema(Settings(secret="s" * 32))._schema


@pytest.mark.parametrize("name", ["ContentSource", "ContentSort", "TagMatchMode"])
@given(values=st.lists(st.integers(0, 40), max_size=12))
def test_an_enum_completes_as_graphql_core_does_every_time(name: str, values: list[int]) -> None:
    """Members (kept once coerced) and other values (never kept), in any order."""
    enum_type = SCHEMA.get_type(name)
    assert isinstance(enum_type, GraphQLEnumType)
    members = [value.value for value in enum_type.values.values()]
    pool = [*members, None, "AUTO", "NEWEST", "ANY", 3]
    complete = completed(lambda obj: obj, enum_type)
    for index in values:
        value = pool[index % len(pool)]
        try:
            expected: Any = None if value is None else enum_type.coerce_output_value(value)
        except Exception:
            with pytest.raises(Exception):  # noqa: B017 - its own refusal, or Fallback
                complete(value)
            continue
        if expected is None or expected is Undefined:
            with pytest.raises(Fallback) if value is not None else nullcontext():
                assert complete(value) is None
            continue
        assert complete(value) == expected
