"""`/metrics`, private: only a scraper presenting the deployment's metrics token is answered.

A token rather than a second port: gunicorn gives every worker one listening socket on
one address, and a Prometheus scrape config takes a bearer token directly.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.observability.metrics import exposition_app
from gallery_gql.web.responses import error_response


class MetricsEndpoint:
    """`/metrics` for a scraper that sends `Authorization: Bearer <metrics token>`: 401
    without it, 404 when the deployment set no token (the endpoint is then off)."""

    def __init__(self, token: str | None) -> None:
        self.expected = f"Bearer {token}".encode() if token else None
        self.app: ASGIApp = exposition_app()  # type: ignore[assignment]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is None:
            response = error_response(scope, 404, ErrorCode.NOT_FOUND, "not found")
        elif hmac.compare_digest(dict(scope["headers"]).get(b"authorization", b""), self.expected):
            await self.app(scope, receive, send)
            return
        else:
            response = error_response(
                scope,
                401,
                ErrorCode.UNAUTHENTICATED,
                "metrics need the metrics token (Authorization: Bearer)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        await response(scope, receive, send)
