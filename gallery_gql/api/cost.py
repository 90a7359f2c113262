"""Query cost: an estimate of the objects a document would resolve, checked at
validation time (after the cached document validation) so an over-budget query is
rejected before any SQL runs.

cost(selection) = sum over fields of (weight + multiplier * cost(child selection)), the
weight 1 except for fields of large values (FIELD_WEIGHTS). A field with a
`first`/`last` argument sets the page size its connection's `edges` list multiplies by;
other list fields multiply by a fixed estimate of their length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from gallery_gql.api.documents.lru import LRU
from gallery_gql.api.errors import ErrorCode

LIST_ESTIMATES = {("ContentItem", "tags"): 100}
DEFAULT_LIST_ESTIMATE = 20
FIELD_WEIGHTS = {("ContentItem", "prompt"): 20, ("ContentItem", "metadata"): 16}
"""Fields that cost more than one object: their stored bound in KiB (20,000 characters,
16 KiB of JSON), so aliased pages of them meet the budget before they meet the response
size bound (web/response_size.py)."""


def _unwrap(type_: Any) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Estimator:
    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        max_page_size: int,
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.max_page_size = max_page_size

    def _page_size(self, node: FieldNode, parent: Any) -> int | None:
        field_def = parent.fields.get(node.name.value)
        given = {
            arg.name.value: value_from_ast_untyped(arg.value, dict(self.variables))
            for arg in node.arguments or ()
        }
        for name in ("last", "first"):
            if name not in field_def.args:
                continue
            value = given.get(name, field_def.args[name].default_value)
            if isinstance(value, int) and value > 0:
                return min(value, self.max_page_size)
        return None

    def _fields(self, selection_set: SelectionSetNode, seen: frozenset[str]) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self._fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    yield from self._fields(fragment.selection_set, seen | {name})

    def cost(
        self, selection_set: SelectionSetNode | None, parent: Any, page_size: int | None
    ) -> int:
        if selection_set is None or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        total = 0
        for node in self._fields(selection_set, frozenset()):
            field_def = parent.fields.get(node.name.value)
            if field_def is None:
                continue  # introspection or invalid: other rules handle it
            child, is_list = _unwrap(field_def.type)
            multiplier = 1
            if is_list:
                estimate = LIST_ESTIMATES.get((parent.name, node.name.value), DEFAULT_LIST_ESTIMATE)
                multiplier = page_size if node.name.value == "edges" and page_size else estimate
            child_page = self._page_size(node, parent)
            weight = FIELD_WEIGHTS.get((parent.name, node.name.value), 1)
            total += weight + multiplier * self.cost(node.selection_set, child, child_page)
        return total


def operation_cost(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_page_size: int,
) -> int:
    """The estimated cost of the operation that would run (0 if there is none)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    if len(operations) != 1:
        return 0  # validation reports missing or ambiguous operations
    operation = operations[0]
    root = {"query": schema.query_type, "mutation": schema.mutation_type}.get(
        operation.operation.value
    )
    estimator = _Estimator(fragments, variables, max_page_size)
    return estimator.cost(operation.selection_set, root, None)


_COSTS: LRU[tuple[object, ...], int] = LRU(1024)


def cached_operation_cost(
    text: str,
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_page_size: int,
) -> int:
    """`operation_cost`, computed once per document, operation and page sizes: only
    whole-number variables can change a cost (they set page sizes), so they alone key it."""
    numbers = tuple(
        (name, value) for name, value in variables.items() if type(value) in (int, bool)
    )
    # Keyed by the text, not the document (a str hashes once, a DocumentNode walks its
    # tree: ~20 us for the gallery page's); one schema per process.
    key = (text, id(schema), operation_name, numbers, max_page_size)
    cost = _COSTS.get(key)
    if cost is None:
        cost = operation_cost(document, schema, operation_name, dict(numbers), max_page_size)
        _COSTS.put(key, cost)
    return cost


class QueryCostLimiter(SchemaExtension):
    """Rejects documents whose estimated cost exceeds the budget. Runs after the cached
    validation so the cache stays keyed on the document alone."""

    def __init__(self, max_cost: int, max_page_size: int) -> None:
        self.max_cost = max_cost
        self.max_page_size = max_page_size

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            cost = cached_operation_cost(
                context.query or "",
                document,
                context.schema._schema,
                context.operation_name,
                context.variables or {},
                self.max_page_size,
            )
            if cost > self.max_cost:
                context.pre_execution_errors = [
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {self.max_cost}: ask for fewer "
                        "items or fewer nested lists",
                        extensions={
                            "code": ErrorCode.BAD_USER_INPUT.value,
                            "cost": cost,
                            "maxCost": self.max_cost,
                        },
                    )
                ]
        yield
