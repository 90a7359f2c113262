"""Document validation, cached, with suggestions hidden when the schema is hidden.

Strawberry's `ValidationCache` validates with graphql-core's suggestions always on, and
its `disable_field_suggestions` strips them from unknown fields only: unknown arguments,
types, enum values and input fields still named the schema's ("Did you mean …").
graphql-core leaves every suggestion out when asked (`hide_suggestions`), so this is
strawberry's cached validation with that flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

CACHED_DOCUMENTS = 256


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # The same two rules strawberry adds to the specified ones in its own validation.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


def validated(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    *,
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """The document's validation errors under `rules` (plus strawberry's two), cached."""
    return _validate(schema, document, rules, hide_suggestions)


class CachedValidation(SchemaExtension):
    """Validates each distinct document once per rule set (the rules must be the same
    classes from request to request: see `schema._limits`)."""

    def __init__(self, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema,
            context.graphql_document,
            tuple(context.validation_rules),
            self.hide_suggestions,
        )
        yield
