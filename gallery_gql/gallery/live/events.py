"""What a worker's live hub reports as it goes: the observer it calls. The domain sits
below observability, so it defines the calls and the app hands it an observer
(observability/metrics.LIVE_METRICS: Prometheus counters)."""

from __future__ import annotations

from typing import Protocol


class LiveEvents(Protocol):
    def delivered(self, count: int) -> None:
        """`count` events offered to subscribers (one per subscriber)."""

    def ended(self, reason: str, count: int) -> None:
        """`count` subscriptions ended by the server: `interrupted` (events may have
        been missed) or `slow` (a subscriber too far behind)."""


class Unobserved:
    """A hub that reports to no one."""

    def delivered(self, count: int) -> None:
        return None

    def ended(self, reason: str, count: int) -> None:
        return None
