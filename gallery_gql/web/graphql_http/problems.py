"""Requests answered before GraphQL runs: not well-formed GraphQL-over-HTTP requests, a
mutation by GET, media types the endpoint does not speak. Each is an HTTP status with one
coded error."""

from __future__ import annotations

from gallery_gql.api.errors import ErrorCode


class ProtocolError(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ProtocolError:
    return ProtocolError(400, ErrorCode.BAD_REQUEST, message)


def unsupported_media_type(message: str) -> ProtocolError:
    return ProtocolError(415, ErrorCode.BAD_REQUEST, message)


def not_acceptable() -> ProtocolError:
    return ProtocolError(
        406,
        ErrorCode.BAD_REQUEST,
        "the response can be application/graphql-response+json or application/json: "
        "accept one of them",
    )


def mutation_by_get() -> ProtocolError:
    return ProtocolError(
        405,
        ErrorCode.METHOD_NOT_ALLOWED,
        "a mutation cannot be sent by GET: send it by POST",
        headers={"Allow": "POST"},
    )
