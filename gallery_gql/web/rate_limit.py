"""Per-client request rate limit (moving window) → 429 + Retry-After.

Counters live in process memory, or in Redis when a storage URL is given (`REDIS_URL`):
then every worker and host counts against the same window. When Redis cannot be
reached the limit lets requests through (and logs it) rather than failing them.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as SharedLimiter
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.responses import error_response

log = logging.getLogger("gallery_gql.rate_limit")


class ClientRateLimiter:
    """Counts requests per client address; `spec` like `600/minute`. One per app, shared
    by every route to the limited paths (the middleware, the `/graphql` front)."""

    def __init__(
        self, spec: str, redis_url: str | None = None, redis_prefix: str = "gallery-gql"
    ) -> None:
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.shared = (
            SharedLimiter(
                RedisStorage(
                    f"async+{redis_url}",
                    implementation="redispy",
                    key_prefix=f"{redis_prefix}:limits",
                )
            )
            if redis_url
            else None
        )

    async def refusal(self, scope: Scope) -> Response | None:
        """The 429 answer when the request's client is over its limit, else None (counted)."""
        client = (scope.get("client") or ("unknown", 0))[0]
        reset = await self._hit(client)
        if reset is None:
            return None
        retry_after = max(1, math.ceil(reset - time.time()))
        return error_response(
            scope,
            429,
            ErrorCode.RATE_LIMITED,
            "too many requests; retry later",
            headers={"Retry-After": str(retry_after)},
        )

    async def _hit(self, client: str) -> float | None:
        """None when the request may pass, else when the client's window resets."""
        if self.shared is None:
            if self.limiter.hit(self.item, client):
                return None
            return self.limiter.get_window_stats(self.item, client)[0]
        return await _shared_hit(self.shared, self.item, client)


class RateLimit:
    """The middleware: `limiter` on the HTTP requests whose path starts `path_prefix`."""

    def __init__(
        self, app: ASGIApp, limiter: ClientRateLimiter, path_prefix: str = "/graphql"
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        refusal = await self.limiter.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)


async def _shared_hit(limiter: SharedLimiter, item: RateLimitItem, client: str) -> float | None:
    try:
        if await limiter.hit(item, client):
            return None
        return (await limiter.get_window_stats(item, client))[0]
    except (RedisError, OSError) as exc:
        log.warning("rate limit storage unavailable (%s): request let through", exc)
        return None
