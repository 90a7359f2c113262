"""The paging arguments every connection takes, as Relay has them: `first`/`after`, and
`last`/`before` where it pages backward.

Every `first` and `last` is a page size, from 1 to the maximum. They are plain `Int`s, so
clients (Relay's generated queries among them) declare `$first: Int`; graphql-core checks
that they are integers, and the bounds are checked here, once the variables are coerced
and before anything runs (docs/decisions.md). `tests/api/test_paging.py` holds the schema
to the convention.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from gallery_gql.api.errors import bad_input

PAGE_SIZE_ARGUMENTS = frozenset({"first", "last"})
BOUNDS = (
    "A whole number from 1 to the maximum page size (100 unless the server is set up "
    "otherwise); any other value is refused (BAD_USER_INPUT) before the operation runs."
)


def forward_cursor(cursor: str | None, after: str | None) -> str | None:
    """`cursor` and Relay's `after` are one argument under two names."""
    if cursor is not None and after is not None and cursor != after:
        raise bad_input("`cursor` and `after` are the same argument; give one")
    return cursor if cursor is not None else after


def page_size_problem(maximum: int) -> str:
    return f"a page size is a whole number from 1 to {maximum}"


def page_size_errors(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    maximum: int,
) -> list[GraphQLError]:
    """One BAD_USER_INPUT error per page size out of bounds in the operation: each bad
    literal, and each variable whose coerced value is used as a bad page size."""
    problem = page_size_problem(maximum)
    errors: list[GraphQLError] = []
    reported: set[str] = set()
    for argument in _page_size_arguments(operation.selection_set, fragments, set()):
        node = argument.value
        if isinstance(node, VariableNode):
            name = node.name.value
            if name not in reported and _out_of_bounds(variables.get(name), maximum):
                reported.add(name)
                errors.append(bad_input(f"Variable '${name}' has invalid value: {problem}", node))
        elif isinstance(node, IntValueNode) and _out_of_bounds(int(node.value), maximum):
            errors.append(bad_input(problem, node))
    return errors


def _out_of_bounds(value: object, maximum: int) -> bool:
    # None: the argument's default applies. Anything else was coerced as an `Int`.
    return value is not None and not (type(value) is int and 1 <= value <= maximum)


def _page_size_arguments(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visited: set[str],
) -> Iterator[ArgumentNode]:
    """The page-size arguments of the selection, its fragments included (each fragment
    once: its arguments are the same wherever it is spread)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            for argument in selection.arguments or ():
                if argument.name.value in PAGE_SIZE_ARGUMENTS:
                    yield argument
            if selection.selection_set is not None:
                yield from _page_size_arguments(selection.selection_set, fragments, visited)
        elif isinstance(selection, InlineFragmentNode):
            yield from _page_size_arguments(selection.selection_set, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visited:
                visited.add(name)
                yield from _page_size_arguments(fragment.selection_set, fragments, visited)
