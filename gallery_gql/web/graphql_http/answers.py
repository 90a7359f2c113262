"""The HTTP response to a GraphQL request: body, media type and status code.

A result whose errors are all request errors (the document did not parse or validate, the
operation could not be picked, a variable did not coerce: none of them has a `path`) has
no `data`, since nothing ran. Its status is 400 in `application/graphql-response+json`
and 200 in `application/json`, as the GraphQL-over-HTTP specification has them. An
operation that ran is 200 with its `data` (null when an error reached the root), whatever
its field errors, except that a database outage that left no data is 503 with
`Retry-After`, and a failure of our own before execution is 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.graphql_http.accept import ResponseMedia, negotiate
from gallery_gql.web.graphql_http.problems import ProtocolError
from gallery_gql.web.response_size import encode_bounded


def graphql_response(result: ExecutionResult, media: ResponseMedia, max_bytes: int) -> Response:
    """The result's body, bounded to `max_bytes` (`response_size.encode_bounded`)."""
    errors = result.errors or []
    executed = result.data is not None or any(error.path for error in errors)
    body: dict[str, Any] = {"data": result.data} if executed else {}
    if errors:
        body["errors"] = [error.formatted for error in errors]
    if result.extensions:
        body["extensions"] = result.extensions
    status = _status(executed, result.data is None, errors, media)
    headers = {"Retry-After": "1"} if status == 503 else {}
    return _response(encode_bounded(body, max_bytes), status, media, headers)


def error_answer(
    accept: str | None,
    status: int,
    code: ErrorCode,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One coded error for a failure outside GraphQL execution, in the media type the
    client accepts (application/json when it accepts neither)."""
    problem = ProtocolError(status, code, message, dict(headers or {}))
    return problem_response(problem, negotiate(accept) or ResponseMedia.JSON)


def problem_response(problem: ProtocolError, media: ResponseMedia) -> Response:
    body = {"errors": [{"message": problem.message, "extensions": {"code": problem.code.value}}]}
    return _json(body, problem.status, media, problem.headers)


def _status(executed: bool, no_data: bool, errors: list[GraphQLError], media: ResponseMedia) -> int:
    codes = {(error.extensions or {}).get("code") for error in errors}
    if no_data and ErrorCode.SERVICE_UNAVAILABLE.value in codes:
        return 503
    if executed:
        return 200
    if ErrorCode.INTERNAL.value in codes:
        return 500
    return 400 if media is ResponseMedia.GRAPHQL_RESPONSE else 200


def _json(
    body: dict[str, Any], status: int, media: ResponseMedia, headers: Mapping[str, str]
) -> Response:
    return _response(orjson.dumps(body), status, media, headers)


def _response(
    body: bytes, status: int, media: ResponseMedia, headers: Mapping[str, str]
) -> Response:
    return Response(
        body,
        status_code=status,
        headers={**headers, "Vary": "Accept"},
        media_type=media.content_type,
    )
