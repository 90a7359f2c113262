"""Coded error responses for failures before GraphQL runs (middleware, the metrics
endpoint), in the media type the client accepts, as the GraphQL endpoint answers them."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.graphql_http.answers import error_answer


def error_response(
    scope: Scope,
    status: int,
    code: ErrorCode,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    accept = dict(scope.get("headers") or []).get(b"accept")
    return error_answer(
        accept.decode("latin-1") if accept else None, status, code, message, headers
    )
