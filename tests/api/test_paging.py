"""The paging arguments every connection takes, as Relay has them: `first`/`after`, and
`last`/`before` where it pages backward. Page sizes are plain `Int`s (clients declare
`$first: Int`), bounded from 1 to the maximum page size: a size out of bounds, as a
literal or as a variable, is BAD_USER_INPUT before anything runs (no `path`, no `data`, no
SQL), and so is a variable that is not an `Int` at all."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLInt, GraphQLNonNull, GraphQLObjectType

from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings
from tests.api.conftest import CountingApp
from tests.api.test_input_scalars import refused_before_execution, with_literal, with_variable

PAGE_SIZE_ARGUMENTS = [("contentItems", "first"), ("contentItems", "last"), ("tags", "first")]
PROBLEM = "a page size is a whole number from 1 to 100"
OUT_OF_BOUNDS = [-1, 0, 101, 10**9]
NOT_AN_INT: list[Any] = [2.5, "25", True, [25], {"n": 25}, 2**31]
NOT_AN_INT_LITERALS = ["2.5", "1e1", '"25"', "true", "[25]", "10000000000"]


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


@pytest.mark.parametrize(("field", "argument"), PAGE_SIZE_ARGUMENTS)
@pytest.mark.parametrize("value", OUT_OF_BOUNDS)
async def test_a_page_size_variable_out_of_bounds(
    counting_app: CountingApp, field: str, argument: str, value: int
) -> None:
    query = with_variable(field, argument, "Int")
    message = await refused_before_execution(counting_app, query, {"v": value})
    assert message == f"Variable '$v' has invalid value: {PROBLEM}"


@pytest.mark.parametrize(("field", "argument"), PAGE_SIZE_ARGUMENTS)
@pytest.mark.parametrize("value", NOT_AN_INT, ids=repr)
async def test_a_page_size_variable_that_is_no_int(
    counting_app: CountingApp, field: str, argument: str, value: Any
) -> None:
    """The same code as a size out of bounds: every variable that does not coerce is
    BAD_USER_INPUT, whatever its type."""
    query = with_variable(field, argument, "Int")
    message = await refused_before_execution(counting_app, query, {"v": value})
    assert message.startswith("Variable '$v' has invalid value: Int cannot represent")


@pytest.mark.parametrize(("field", "argument"), PAGE_SIZE_ARGUMENTS)
@pytest.mark.parametrize("literal", ["-1", "0", "101", "1000000000"])
async def test_a_page_size_literal_out_of_bounds(
    counting_app: CountingApp, field: str, argument: str, literal: str
) -> None:
    query = with_literal(field, argument, literal)
    assert await refused_before_execution(counting_app, query) == PROBLEM


@pytest.mark.parametrize("literal", NOT_AN_INT_LITERALS)
async def test_a_page_size_literal_that_is_no_int_fails_validation(
    counting_app: CountingApp, literal: str
) -> None:
    body = await counting_app.gql.post(with_literal("tags", "first", literal))
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "data" not in body
    assert counting_app.statements == []


@pytest.mark.parametrize(("field", "argument"), PAGE_SIZE_ARGUMENTS)
async def test_page_size_bounds_are_accepted(
    counting_app: CountingApp, field: str, argument: str
) -> None:
    for size in (1, 100):
        await counting_app.gql.data(with_literal(field, argument, str(size)))
        for declared in ("Int", "Int!"):
            await counting_app.gql.data(with_variable(field, argument, declared), {"v": size})
    # Null, or a variable left out, is the argument's default.
    await counting_app.gql.data(with_variable(field, argument, "Int"), {"v": None})
    await counting_app.gql.data(with_variable(field, argument, "Int"), {})


async def test_page_sizes_are_found_through_fragments_and_reported_once(
    counting_app: CountingApp,
) -> None:
    query = """query ($n: Int, $m: Int) {
      ...Tags ... on Query { again: tags(first: $n) { edges { cursor } } }
      items: contentItems(last: $m) { edges { cursor } }
    }
    fragment Tags on Query { tags(first: $n) { edges { cursor } } ...Tags2 }
    fragment Tags2 on Query { tags2: tags(first: 0) { edges { cursor } } }"""
    body = await counting_app.gql.post(query, {"n": 500, "m": 5})
    assert sorted(error["message"] for error in body["errors"]) == [
        f"Variable '$n' has invalid value: {PROBLEM}",
        PROBLEM,
    ]
    assert "data" not in body
    assert counting_app.statements == []


async def test_the_page_size_bound_follows_the_setting() -> None:
    schema = build_schema(Settings(max_page_size=10, secret="s" * 32))
    query = "query ($n: Int) { tags(first: $n) { edges { cursor } } }"
    result = await schema.execute(query, variable_values={"n": 11})
    assert result.errors is not None
    assert result.errors[0].message.endswith("a page size is a whole number from 1 to 10")


def test_every_connection_takes_relay_paging_arguments() -> None:
    """The convention the bounds check relies on: an argument named `first` or `last` is a
    page size (an `Int`), and is found on connections only; every connection pages
    forward with `first`/`after`, and backward with `last`/`before` when it has `last`."""
    schema = build_schema(Settings(secret="s" * 32))._schema
    connections = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            returned = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            is_connection = getattr(returned, "name", "").endswith("Connection")
            for argument in ("first", "last"):
                if argument in field.args:
                    assert is_connection, f"{type_.name}.{name}({argument}:) is not a connection"
                    assert field.args[argument].type is GraphQLInt, f"{type_.name}.{name}"
            if is_connection:
                connections += 1
                assert {"first", "after"} <= set(field.args), f"{type_.name}.{name}"
                if "last" in field.args:
                    assert "before" in field.args, f"{type_.name}.{name}"
    assert connections == 2  # contentItems and tags
