"""Schema assembly: the Query root, extensions and limits."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gallery_gql.api.consistency import ConsistencyToken
from gallery_gql.api.cost import QueryCostLimiter
from gallery_gql.api.errors import ErrorCode, ErrorCodes, public_error
from gallery_gql.api.executor import executor_class
from gallery_gql.api.mutations import Mutation
from gallery_gql.api.operation_resolution import OperationResolution
from gallery_gql.api.queries.content import ContentQueries
from gallery_gql.api.queries.tags import TagQueries
from gallery_gql.api.queries.viewer import ViewerQueries
from gallery_gql.api.subscriptions import Subscription
from gallery_gql.api.types.content import ContentItem, thumbnail_resolver
from gallery_gql.api.types.scalars import scalar_map
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User
from gallery_gql.api.validation import CachedValidation
from gallery_gql.observability.metrics import KNOWN_OPERATIONS, OperationMetrics
from gallery_gql.observability.tracing import tracing_extension
from gallery_gql.settings import Settings


@strawberry.type(description="The gallery's read API.")
class Query(ContentQueries, TagQueries, ViewerQueries):
    pass


def _limits(settings: Settings) -> list[Any]:
    """Document limits, checked before execution (so before any SQL)."""

    def is_introspection(context: IgnoreContext) -> bool:
        return context.field_name.startswith("__")

    # Built once: the limiters make a new rule class per instance, and the validation cache
    # is keyed on the rule classes, so per-request instances would never hit it.
    document_rules = [
        *QueryDepthLimiter(
            max_depth=settings.max_depth, should_ignore=is_introspection
        ).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    limits: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(document_rules),
        lambda: QueryCostLimiter(settings.max_query_cost, settings.max_page_size),
    ]
    if not settings.introspection_enabled:
        limits.append(DisableIntrospection)
    if settings.tracing:
        limits.append(tracing_extension())
    return limits


class GallerySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in `ErrorCodes`, once per error and at the right level. Errors
        returned before execution (parsing, token limits) get their code here, since
        `ErrorCodes` only sees results of operations that ran; a crash before execution
        (strawberry's depth limiter on a 5,000-digit literal) is masked like any other."""
        context = execution_context.context if execution_context else None
        request_id = getattr(context, "request_id", None) or uuid.uuid4().hex
        for index, error in enumerate(errors):
            if error.original_error is None and not (error.extensions or {}).get("code"):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value,
                }
            elif error.original_error is not None:
                errors[index] = public_error(error, request_id)


def _resolve_directly(schema: strawberry.Schema, settings: Settings) -> None:
    """Hot fields with arguments resolved by plain functions: strawberry would convert
    their arguments and build an `Info` per call (6% of a grid page's worker time, 25
    calls a page; docs/decisions.md). Types, arguments and descriptions stay strawberry's;
    graphql-core passes the coerced arguments, and schema extensions still wrap the call."""
    item = schema._schema.get_type("ContentItem")
    assert isinstance(item, GraphQLObjectType)
    item.fields["thumbnail"].resolve = thumbnail_resolver(settings.media_url_prefix)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # Where introspection is off the schema is not public: no error names what it holds.
    hidden = not settings.introspection_enabled
    known_operations = frozenset((*KNOWN_OPERATIONS, *settings.metrics_operations))
    known_codes = frozenset(code.value for code in ErrorCode)
    schema = GallerySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ContentItem, Tag, User],
        extensions=[
            lambda: OperationMetrics(known_operations, known_codes),
            ErrorCodes,
            ConsistencyToken,
            lambda: ParserCache(maxsize=256),
            OperationResolution,
            lambda: CachedValidation(hide_suggestions=hidden),
            *_limits(settings),
        ],
        execution_context_class=executor_class(
            schema_hidden=hidden, max_page_size=settings.max_page_size
        ),
        config=StrawberryConfig(scalar_map=scalar_map()),
    )
    _resolve_directly(schema, settings)
    return schema
