"""A per-client budget of lookups by id that find nothing the viewer may see.

Item ids are the gallery's sequential database ids, and `contentItem` / `node` answer null
alike for an absent item and for someone else's private one; walking the ids still shows
which ids in the sequence are private (how many, and where: never their content). Global
ids stay as they are (clients keep them, and a public item's id is public anyway); a
client that keeps finding nothing is stopped instead: past `spec` misses (e.g.
`60/minute`) its lookups that miss answer `RATE_LIMITED`, so walking a large id range
takes hours per address. Lookups that find a visible item are never counted.
Kept per worker process, like the request rate limit.
"""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from gallery_gql.api.errors import ErrorCode, PublicError


class HiddenLookups:
    def __init__(self, spec: str) -> None:
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def missed(self, client: str) -> None:
        """Count a miss for `client`; RATE_LIMITED once its budget is spent."""
        if not self.limiter.hit(self.item, client):
            raise PublicError(
                "too many lookups of ids that are absent or not visible; retry later",
                ErrorCode.RATE_LIMITED,
            )
