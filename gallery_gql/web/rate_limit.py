"""Per-client request rate limit (moving window, in process memory) → 429 + Retry-After."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.responses import error_response


class RateLimit:
    """Limits requests per client address; `spec` like `600/minute`."""

    def __init__(self, app: ASGIApp, spec: str, path_prefix: str = "/graphql") -> None:
        self.app = app
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        reset, _ = self.limiter.get_window_stats(self.item, client)
        retry_after = max(1, math.ceil(reset - time.time()))
        response = error_response(
            scope,
            429,
            ErrorCode.RATE_LIMITED,
            "too many requests; retry later",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
