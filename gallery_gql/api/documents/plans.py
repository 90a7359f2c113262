"""Compiling a query's selections into plans that write the response's `data` from
records: what graphql-core's completion would produce, field by field, without its
per-field machinery.

A plan is built once per document and operation. Fields are collected as graphql-core
collects them (response keys in order of first appearance, fragments spread in place and
each once, a key's selections merged); every leaf is completed with the schema's own
`coerce_output_value`, from the value the field's resolver would return (the strawberry type's
attribute, or its argument-less plain resolver). Anything else, a directive, an
argument-taking or asynchronous field the compiler does not know, a list of leaves, is
`Unsupported`: the document takes the general executor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.schema.name_converter import NameConverter

from gallery_gql.api.queries.tags import TagEdge
from gallery_gql.api.types.connection import ContentItemEdge, PageInfo, TotalCount
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User


class Unsupported(Exception):  # noqa: N818 - a verdict, not a failure
    """The compiler does not understand this document: the general executor runs it."""


class Fallback(Exception):  # noqa: N818
    """Something at run time the plan does not produce (a null where the schema has
    none): the general executor answers instead, errors and all."""


Getter = Callable[[Any], Any]
"""From the parent object to the field's completed (JSON-ready) value."""

STRAWBERRY_TYPES: dict[str, type] = {
    "ContentItem": ContentItem,
    "TagEdge": TagEdge,
    "User": User,
    "Tag": Tag,
    "PageInfo": PageInfo,
    "TotalCount": TotalCount,
    "ContentItemEdge": ContentItemEdge,
}


@dataclass(frozen=True)
class Selection:
    """One response key of a selection set: its merged field nodes and field."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    field: GraphQLField | None  # None for __typename


class BoundVariables:
    """A request's coerced variables, and each field's argument values under them, worked
    out once: a plan keeps them for the next request that sends the same variables
    (compiled.py). Shared between requests, so what they hold is only ever read."""

    __slots__ = ("_arguments", "values")

    def __init__(self, values: VariableValues) -> None:
        self.values = values
        self._arguments: dict[int, dict[str, Any]] = {}

    def arguments(self, selection: Selection) -> dict[str, Any]:
        # By identity: a selection lives in its plan, and bound variables only with it.
        found = self._arguments.get(id(selection))
        if found is None:
            assert selection.field is not None
            found = get_argument_values(selection.field, selection.nodes[0], self.values)
            self._arguments[id(selection)] = found
        return found


@dataclass
class Compiler:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    names: NameConverter
    getters: dict[tuple[str, str], Getter] = field(default_factory=dict)

    def object_type(self, name: str) -> GraphQLObjectType:
        type_ = self.schema.get_type(name)
        assert isinstance(type_, GraphQLObjectType)
        return type_

    # -- collecting fields, as graphql-core's CollectFields -------------------------------
    def collect(self, parent: GraphQLObjectType, sets: list[SelectionSetNode]) -> list[Selection]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in sets:
            self._collect(parent, selection_set, grouped, visited)
        selections = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                selections.append(Selection(key, name, tuple(nodes), None))
                continue
            if name.startswith("__") or name not in parent.fields:
                raise Unsupported(f"{parent.name}.{name}")
            selections.append(Selection(key, name, tuple(nodes), parent.fields[name]))
        return selections

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise Unsupported("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, parent):
                    self._collect(parent, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None:
                    raise Unsupported(f"fragment {name}")
                if self._applies(fragment.type_condition.name.value, parent):
                    self._collect(parent, fragment.selection_set, grouped, visited)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        type_ = self.schema.get_type(condition)
        if type_ is None:
            raise Unsupported(f"type {condition}")
        if type_ is parent:
            return True
        return isinstance(type_, GraphQLAbstractType) and self.schema.is_sub_type(type_, parent)

    # -- leaves --------------------------------------------------------------------------
    def leaf(self, parent: GraphQLObjectType, selection: Selection) -> Getter:
        """The completed value of a scalar or enum field without arguments."""
        if selection.field is None:
            type_name = parent.name
            return lambda _: type_name
        if selection.field.args:
            raise Unsupported(f"{parent.name}.{selection.name} takes arguments")
        read = self.resolver(parent.name, selection.name)
        return completed(read, selection.field.type)

    def resolver(self, type_name: str, name: str) -> Getter:
        """What the strawberry field returns: its attribute, or its plain resolver."""
        cls = STRAWBERRY_TYPES.get(type_name)
        if cls is None:
            raise Unsupported(type_name)
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        for candidate in definition.fields:
            if self.names.get_graphql_name(candidate) != name:
                continue
            resolver = candidate.base_resolver
            if resolver is None:
                return attrgetter(candidate.python_name)
            if resolver.is_async or resolver.info_parameter or candidate.arguments:
                break
            function = resolver.wrapped_func
            return lambda obj: function(obj)
        raise Unsupported(f"{type_name}.{name}")

    def object_below(self, type_name: str, selection: Selection) -> ObjectPlan:
        """The plan of the `type_name` object a field selects (leaves only)."""
        fields = self.collect(self.object_type(type_name), selection_sets(selection))
        return self.object_plan(type_name, fields)

    def object_plan(self, type_name: str, selections: list[Selection]) -> ObjectPlan:
        parent = self.object_type(type_name)
        entries = []
        for selection in selections:
            if selection.field is not None and not _is_leaf(selection.field.type):
                raise Unsupported(f"{type_name}.{selection.name}")
            entries.append((selection.key, self.leaf(parent, selection)))
        return ObjectPlan(tuple(entries))


@dataclass(frozen=True)
class ObjectPlan:
    """An object whose selected fields are all leaves."""

    entries: tuple[tuple[str, Getter], ...]

    def render(self, obj: Any) -> dict[str, Any]:
        return {key: get(obj) for key, get in self.entries}


def selection_sets(selection: Selection) -> list[SelectionSetNode]:
    """The selection sets below a response key's field nodes, to be merged."""
    return [node.selection_set for node in selection.nodes if node.selection_set is not None]


def _is_leaf(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLLeafType)


_UNCHANGED: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
    GraphQLFloat: float,
}
"""The built-in scalars that give back a value of exactly this Python type unchanged
(graphql-core's `serialize_*`): strings and booleans always, integers within 32 bits,
floats when finite."""

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_KEPT_ENUM_VALUES = 64


def completed(read: Getter, type_: Any) -> Getter:
    """`read` completed as graphql-core completes a leaf: null where nullable, the type's
    `coerce_output_value` otherwise; a null for a non-null field is a `Fallback` (the general
    executor reports it as an error). A value the scalar gives back unchanged is checked by
    its type alone (one closure per kind: ~150 leaves a grid page)."""
    non_null = isinstance(type_, GraphQLNonNull)
    leaf = type_.of_type if non_null else type_
    if isinstance(leaf, GraphQLList) or not isinstance(leaf, GraphQLLeafType):
        raise Unsupported("not a leaf")
    coerce = leaf.coerce_output_value

    def general(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Fallback("null for a non-null field")
            return None
        out = coerce(value)
        if out is None or out is Undefined:
            raise Fallback("not serializable")
        return out

    if isinstance(leaf, GraphQLEnumType):
        # Each member coerced once. Kept by identity: members live as long as their class
        # (no other object can take their id), and a member never equals a plain value.
        names: dict[int, Any] = {}

        def complete_enum(obj: Any) -> Any:
            value = read(obj)
            out = names.get(id(value))
            if out is None:
                out = general(value)
                if isinstance(value, Enum) and len(names) < _KEPT_ENUM_VALUES:
                    names[id(value)] = out
            return out

        return complete_enum
    unchanged = _UNCHANGED.get(leaf)
    if unchanged is int:

        def complete_int(obj: Any) -> Any:
            value = read(obj)
            if type(value) is int and _INT_MIN <= value <= _INT_MAX:
                return value
            return general(value)

        return complete_int
    if unchanged is float:

        def complete_float(obj: Any) -> Any:
            value = read(obj)
            if type(value) is float and math.isfinite(value):
                return value
            return general(value)

        return complete_float
    if unchanged is not None:

        def complete_plain(obj: Any) -> Any:
            value = read(obj)
            if type(value) is unchanged:
                return value
            return general(value)

        return complete_plain

    def complete(obj: Any) -> Any:
        return general(read(obj))

    return complete
