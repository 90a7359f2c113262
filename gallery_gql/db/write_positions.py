"""Each viewer's last write position, remembered for a window (read-your-writes).

After a viewer's write the gateway keeps the commit's WAL position for
`consistency_window_seconds`; that viewer's reads then go only to replicas that have
replayed it (db/routing.py). Kept in process memory by default, which holds within one
worker; with `REDIS_URL`, in Redis, so every worker on every host knows it. A position
is only ever raised, never lowered, by a concurrent write of the same viewer.

When Redis cannot be reached, a viewer's position is unknown: their reads go to the
primary (correct, if slower) rather than to a replica that might not have their write.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger("gallery_gql.write_positions")

UNKNOWN = (1 << 64) - 1
"""The position of a viewer whose writes cannot be looked up: no replica reaches it."""

# Raise the stored position (never lower it) and restart its expiry, atomically.
_RAISE = """
local current = redis.call('GET', KEYS[1])
if not current or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class WritePositions(Protocol):
    async def remember(self, viewer: UUID, lsn: int) -> None:
        """`viewer` wrote at `lsn`."""

    async def recall(self, viewer: UUID) -> int | None:
        """The viewer's last write position within the window, None without one."""

    async def close(self) -> None: ...


class LocalWritePositions:
    """In this process's memory: the oldest entries go first past `max_viewers`."""

    def __init__(
        self,
        window: float,
        *,
        max_viewers: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_viewers = max_viewers
        self._clock = clock
        self._positions: OrderedDict[UUID, tuple[float, int]] = OrderedDict()

    async def remember(self, viewer: UUID, lsn: int) -> None:
        previous = self._positions.pop(viewer, None)
        if previous is not None:
            lsn = max(lsn, previous[1])
        self._positions[viewer] = (self._clock() + self.window, lsn)
        while len(self._positions) > self.max_viewers:
            self._positions.popitem(last=False)

    async def recall(self, viewer: UUID) -> int | None:
        entry = self._positions.get(viewer)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._positions[viewer]
            return None
        return entry[1]

    async def close(self) -> None:
        self._positions.clear()


class RedisWritePositions:
    """In Redis, shared by every worker and host; entries expire after the window."""

    def __init__(self, url: str, window: float, prefix: str = "gallery-gql") -> None:
        self.window_ms = max(1, int(window * 1000))
        self.prefix = f"{prefix}:write-position:"
        self.client = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
        )
        self._raise = self.client.register_script(_RAISE)

    async def remember(self, viewer: UUID, lsn: int) -> None:
        try:
            await self._raise(keys=[self.prefix + str(viewer)], args=[lsn, self.window_ms])
        except RedisError as exc:
            log.warning("write position not stored in Redis: %s", type(exc).__name__)

    async def recall(self, viewer: UUID) -> int | None:
        try:
            value = await self.client.get(self.prefix + str(viewer))
        except RedisError as exc:
            log.warning("write positions unavailable (%s): reading from the primary", exc)
            return UNKNOWN
        return int(value) if value is not None else None

    async def close(self) -> None:
        await self.client.aclose()


def create_write_positions(
    redis_url: str | None, window: float, prefix: str = "gallery-gql"
) -> WritePositions:
    if redis_url:
        return RedisWritePositions(redis_url, window, prefix)
    return LocalWritePositions(window)
