"""GraphQL-shaped error responses for failures that happen before GraphQL runs."""

from __future__ import annotations

from starlette.responses import JSONResponse

from gallery_gql.api.errors import ErrorCode


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    return JSONResponse(body, status_code=status, headers=headers)
