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
from starlette.types import ASGIApp, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.responses import error_response

log = logging.getLogger("gallery_gql.rate_limit")


class RateLimit:
    """Limits requests per client address; `spec` like `600/minute`."""

    def __init__(
        self,
        app: ASGIApp,
        spec: str,
        path_prefix: str = "/graphql",
        redis_url: str | None = None,
        redis_prefix: str = "gallery-gql",
    ) -> None:
        self.app = app
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
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        reset = await self._hit(client)
        if reset is None:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(reset - time.time()))
        response = error_response(
            scope,
            429,
            ErrorCode.RATE_LIMITED,
            "too many requests; retry later",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)

    async def _hit(self, client: str) -> float | None:
        """None when the request may pass, else when the client's window resets."""
        if self.shared is None:
            if self.limiter.hit(self.item, client):
                return None
            return self.limiter.get_window_stats(self.item, client)[0]
        return await _shared_hit(self.shared, self.item, client)


async def _shared_hit(limiter: SharedLimiter, item: RateLimitItem, client: str) -> float | None:
    try:
        if await limiter.hit(item, client):
            return None
        return (await limiter.get_window_stats(item, client))[0]
    except (RedisError, OSError) as exc:
        log.warning("rate limit storage unavailable (%s): request let through", exc)
        return None
