"""The step between a valid document and running it: graphql-core's executor `build`.

Building the executor picks the operation and coerces the variables. Ours also hides
suggestions ("Did you mean …") when the schema is hidden, gives each request error of
that step its code (a variable that does not coerce is BAD_USER_INPUT whatever its type;
an operation that cannot be picked is OPERATION_RESOLUTION_FAILURE), and refuses page
sizes out of bounds. Errors returned here are request errors: nothing has run, and the
response carries no `data`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError, VariableDefinitionNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gallery_gql.api.errors import ErrorCode
from gallery_gql.api.paging import page_size_errors


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
