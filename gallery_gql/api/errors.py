"""The error model: every error a client sees carries a stable `extensions.code`.

Deliberate errors are raised as `PublicError`; anything else that escapes a resolver is
masked as INTERNAL with a request id, and logged with its traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import Node
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from gallery_gql.db.failures import DatabaseFailure, classify

log = logging.getLogger("gallery_gql.errors")


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    TIMEOUT = "TIMEOUT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    INTERNAL = "INTERNAL"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    """Which operation of the document to run cannot be told: `operationName` names none
    of them, or the document has several and no `operationName`."""
    BAD_REQUEST = "BAD_REQUEST"
    """Not a well-formed GraphQL-over-HTTP request: the body is not a JSON object, a
    parameter is missing or of the wrong type, the content type or `Accept` is not one
    the endpoint speaks."""
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    """An HTTP method the URL does not take, or a mutation sent by GET (HTTP 405)."""
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    """A WebSocket, or the server, holds as many live subscriptions as it may."""
    EVENTS_INTERRUPTED = "EVENTS_INTERRUPTED"
    """Live events may have been missed (the server lost its database listener): read
    again and subscribe again."""


class PublicError(GraphQLError):
    """An error whose message is meant for the client. `nodes` locate it in the document
    when it is raised before execution (by a scalar parsing a literal)."""

    def __init__(
        self, message: str, code: ErrorCode, nodes: Node | None = None, **extensions: Any
    ) -> None:
        super().__init__(message, nodes, extensions={"code": code.value, **extensions})
        self.code = code


def bad_input(message: str, nodes: Node | None = None, **extensions: Any) -> PublicError:
    return PublicError(message, ErrorCode.BAD_USER_INPUT, nodes, **extensions)


def unauthenticated(message: str = "sign in to use this filter") -> PublicError:
    return PublicError(message, ErrorCode.UNAUTHENTICATED)


def _is_public(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return True  # parse and validation errors: written by graphql-core for the client
    if isinstance(original, PublicError):
        return True
    return isinstance(original, GraphQLError) and original.original_error is None


_FAILURE_MESSAGES = {
    DatabaseFailure.TIMEOUT: (ErrorCode.TIMEOUT, "the request took too long; try a narrower query"),
    DatabaseFailure.UNAVAILABLE: (
        ErrorCode.SERVICE_UNAVAILABLE,
        "the service is briefly unavailable; retry shortly",
    ),
}


def public_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client may see it: coded, and masked unless meant for clients."""
    if _is_public(error):
        original = error.original_error
        if isinstance(original, PublicError):
            return GraphQLError(
                error.message,  # for a variable, graphql-core's prefix names it
                error.nodes,
                error.source,
                error.positions,
                error.path,
                None,
                original.extensions,
            )
        if not (error.extensions or {}).get("code"):
            code = (
                ErrorCode.GRAPHQL_VALIDATION_FAILED
                if error.path is None
                else (ErrorCode.BAD_USER_INPUT)
            )
            error.extensions = {**(error.extensions or {}), "code": code.value}
        return error
    failure = classify(error.original_error) if error.original_error else None
    if failure is not None:
        code, message = _FAILURE_MESSAGES[failure]
        log.warning("%s (request %s): %r", code.value, request_id, error.original_error)
        return GraphQLError(
            message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {"code": code.value, "requestId": request_id},
        )
    log.error("internal error (request %s)", request_id, exc_info=error.original_error)
    return GraphQLError(
        f"Internal server error (request id {request_id})",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        None,
        {"code": ErrorCode.INTERNAL.value, "requestId": request_id},
    )


class ErrorCodes(SchemaExtension):
    """Gives every error a code and masks the unexpected ones. The HTTP status follows
    from the codes (web/graphql_http/answers.py)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult):
            return
        if not result.errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None) or uuid.uuid4().hex
        result.errors = [public_error(error, request_id) for error in result.errors]
