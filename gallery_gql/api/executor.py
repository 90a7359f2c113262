"""The step between a valid document and running it: graphql-core's executor `build`.

Building the executor picks the operation and coerces the variables. Ours also hides
suggestions ("Did you mean …") when the schema is hidden, gives each request error of
that step its code (a variable that does not coerce is BAD_USER_INPUT whatever its type;
an operation that cannot be picked is OPERATION_RESOLUTION_FAILURE), and refuses page
sizes out of bounds. Errors returned here are request errors: nothing has run, and the
response carries no `data`.

A subscription's executor runs once per event; for a live event it answers from the
result another subscriber's executor made of the same event, when theirs would be the
same (`live_renders`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from graphql import ExecutionResult, GraphQLError, VariableDefinitionNode
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gallery_gql.api.errors import ErrorCode
from gallery_gql.api.live_renders import render_key, rendered_once
from gallery_gql.api.paging import page_size_errors
from gallery_gql.api.types.live import ContentItemEvent


class GalleryExecutor(StrawberryGraphQLCoreExecutionContext):
    """Set up per schema by `executor_class`."""

    schema_hidden: ClassVar[bool] = True
    max_page_size: ClassVar[int] = 100

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = cls.schema_hidden
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [_coded(error) for error in built]
        errors = page_size_errors(
            built.operation,
            built.fragment_definitions,
            built.variable_values.coerced,
            cls.max_page_size,
        )
        return errors or built

    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.root_value
        if not isinstance(event, ContentItemEvent) or event.renders is None:
            return super().execute_operation(serially)
        # An event's execution is never incremental (graphql-core refuses @defer there).
        execute = cast(
            "Callable[[bool | None], AwaitableOrValue[ExecutionResult]]",
            super().execute_operation,
        )
        viewer = getattr(self.context_value, "viewer", None)
        variables = self.variable_values.coerced
        key = render_key(self.operation, self.fragment_definitions, variables, viewer)
        return rendered_once(event.renders, key, self.operation, lambda: execute(serially))


def _coded(error: GraphQLError) -> GraphQLError:
    """Coercion failures are located at a variable's definition; the others (no such
    operation, several and no name) name no location. A code already given stays."""
    if (error.extensions or {}).get("code"):
        return error
    at_variable = any(isinstance(node, VariableDefinitionNode) for node in error.nodes or ())
    code = ErrorCode.BAD_USER_INPUT if at_variable else ErrorCode.OPERATION_RESOLUTION_FAILURE
    error.extensions = {**(error.extensions or {}), "code": code.value}
    return error


def executor_class(*, schema_hidden: bool, max_page_size: int) -> type[GalleryExecutor]:
    class Executor(GalleryExecutor):
        pass

    Executor.schema_hidden = schema_hidden
    Executor.max_page_size = max_page_size
    return Executor
