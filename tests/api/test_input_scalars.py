"""Cursor checks its values while variables and literals are coerced: a malformed cursor
is BAD_USER_INPUT with no `path` (nothing was executed) and no SQL. A well-formed cursor
that is not genuine for the field is still the field's to refuse, also BAD_USER_INPUT
(more of those in test_cursor_errors.py). Page sizes: test_paging.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gallery_gql.api.types.scalars import LONGEST_CURSOR
from tests.api.conftest import CountingApp
from tests.factories import Dataset

CURSOR_ARGUMENTS = [
    ("contentItems", "cursor"),
    ("contentItems", "after"),
    ("contentItems", "before"),
    ("tags", "cursor"),
    ("tags", "after"),
]
CURSOR_PROBLEM = "malformed cursor: pass an edge's `cursor` or a `startCursor`/`endCursor` back"
LEAKS = ("traceback", "python", "exception", "binascii", "orjson", "int()", "sqlalchemy")
BAD_CURSORS: list[Any] = [
    "",
    "garbage!",
    "YR",  # decodes, but is not how any byte string is spelled ("YQ")
    "YQ==",  # padded
    "a+b/",  # the standard alphabet, not the URL-safe one
    "ü€😀",
    "A" * (LONGEST_CURSOR + 4),  # well-formed, but longer than any cursor
    5,
    True,
    ["YQ"],
]
BAD_CURSOR_LITERALS = [
    '""',
    '"garbage!"',
    '"YQ=="',
    f'"{"A" * (LONGEST_CURSOR + 4)}"',
    "5",
    '["YQ"]',
]


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


def with_variable(field: str, argument: str, type_name: str) -> str:
    return f"query ($v: {type_name}) {{ {field}({argument}: $v) {{ edges {{ cursor }} }} }}"


def with_literal(field: str, argument: str, literal: str) -> str:
    return f"{{ {field}({argument}: {literal}) {{ edges {{ cursor }} }} }}"


async def refused_before_execution(
    app: CountingApp, query: str, variables: dict[str, Any] | None = None
) -> str:
    """The message of the request's single error, after checking it is a pre-execution
    BAD_USER_INPUT that ran no SQL and leaks nothing."""
    body = await app.gql.post(query, variables)
    assert body["_status"] == 200, body
    assert "data" not in body, body  # a request error: nothing ran
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}, error
    assert "path" not in error, error
    assert error["locations"], error
    assert not [leak for leak in LEAKS if leak in error["message"].lower()], error
    assert app.statements == []
    message: str = error["message"]
    return message


async def _first_cursor(app: CountingApp, field: str) -> str:
    data = await app.gql.data(f"{{ {field}(first: 1) {{ pageInfo {{ endCursor }} }} }}")
    cursor: str = data[field]["pageInfo"]["endCursor"]
    return cursor


# -- cursors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "argument"), CURSOR_ARGUMENTS)
@pytest.mark.parametrize("value", BAD_CURSORS, ids=lambda value: repr(value)[:20])
async def test_bad_cursor_variable(
    counting_app: CountingApp, field: str, argument: str, value: Any
) -> None:
    query = with_variable(field, argument, "Cursor")
    message = await refused_before_execution(counting_app, query, {"v": value})
    assert message.startswith(f"Variable '$v' has invalid value: {CURSOR_PROBLEM}")


@pytest.mark.parametrize(("field", "argument"), CURSOR_ARGUMENTS)
@pytest.mark.parametrize("literal", BAD_CURSOR_LITERALS, ids=lambda literal: literal[:20])
async def test_bad_cursor_literal(
    counting_app: CountingApp, field: str, argument: str, literal: str
) -> None:
    query = with_literal(field, argument, literal)
    assert (await refused_before_execution(counting_app, query)).startswith(CURSOR_PROBLEM)


@pytest.mark.parametrize("field", ["contentItems", "tags"])
async def test_genuine_cursor_is_accepted(
    counting_app: CountingApp, module_gallery: Dataset, field: str
) -> None:
    cursor = await _first_cursor(counting_app, field)
    literal = with_literal(field, "cursor", orjson.dumps(cursor).decode())
    assert (await counting_app.gql.data(literal))[field]["edges"]
    variable = with_variable(field, "cursor", "Cursor")
    assert (await counting_app.gql.data(variable, {"v": cursor}))[field]["edges"]


@pytest.mark.parametrize(("issuer", "field"), [("tags", "contentItems"), ("contentItems", "tags")])
async def test_a_cursor_from_the_other_field_is_refused_by_the_field(
    counting_app: CountingApp, module_gallery: Dataset, issuer: str, field: str
) -> None:
    """Well-formed, so the scalar lets it through: the field knows it is not its own."""
    cursor = await _first_cursor(counting_app, issuer)
    body = await counting_app.gql.post(with_variable(field, "cursor", "Cursor"), {"v": cursor})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["path"] == [field]
    assert error["message"] in (
        "invalid `cursor`: unsupported cursor version: start again from the first page",
        "invalid cursor",  # tags
    )
