"""Scalars that check their input while variables and literals are coerced: a malformed
cursor is refused before the operation runs, so before any resolver or SQL.

What needs the signing secret or the filter (a cursor's signature, the query it came from)
is checked by the field that takes the cursor. Page sizes are plain `Int`s, bounded in
`api/paging.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NewType

import strawberry
from graphql import ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

from gallery_gql.api.errors import bad_input
from gallery_gql.gallery.query.cursor import MAX_CURSOR_LENGTH, CursorError, cursor_bytes
from gallery_gql.gallery.query.tag_search import MAX_TAG_CURSOR_LENGTH

CursorToken = NewType("CursorToken", str)

LONGEST_CURSOR = max(MAX_CURSOR_LENGTH, MAX_TAG_CURSOR_LENGTH)


def _checked_scalar(
    name: str, description: str, check: Callable[[object], object | None], problem: str
) -> ScalarDefinition:
    """A scalar whose values pass `check` (None means refused) or fail with BAD_USER_INPUT."""

    def parse_value(value: object) -> object:
        checked = check(value)
        if checked is None:
            raise bad_input(problem)
        return checked

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> object:
        try:
            value = value_from_ast_untyped(node, variables)
        except ValueError:  # an integer literal with more digits than int() converts
            value = None
        checked = check(value)
        if checked is None:
            raise bad_input(problem, node)
        return checked

    return strawberry.scalar(
        name=name, description=description, parse_value=parse_value, parse_literal=parse_literal
    )


def _check_cursor(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        cursor_bytes(value, LONGEST_CURSOR)
    except CursorError:
        return None
    return value


CURSOR_SCALAR = _checked_scalar(
    "Cursor",
    "An opaque position in a paged result, given as an edge's `cursor` and in `pageInfo`: "
    "pass it back unchanged. A malformed cursor is refused before the operation runs; a "
    "well-formed one that the field did not issue (altered, or from `contentItems` with "
    "another filter or sort) is refused by the field. Both are BAD_USER_INPUT.",
    _check_cursor,
    "malformed cursor: pass an edge's `cursor` or a `startCursor`/`endCursor` back unchanged",
)


def scalar_map() -> dict[object, ScalarDefinition]:
    """The Python types of the custom scalars and their definitions, for the schema config."""
    return {CursorToken: CURSOR_SCALAR}
