"""What read routing reports as it goes: the observer the router and its monitor call.

The database layer sits below observability, so it defines the calls and the app hands
it an observer (observability/metrics.ROUTING_METRICS: Prometheus counters and gauges).
"""

from __future__ import annotations

from typing import Protocol


class RoutingEvents(Protocol):
    def served(self, target: str) -> None:
        """A read ran on `target` (`primary` or a replica's name)."""

    def skipped(self, replica: str, reason: str) -> None:
        """A read passed `replica` over: down, lagging, behind_write, or failed (it
        failed under the read, which ran elsewhere)."""

    def polled(self, replica: str, up: bool, lag_seconds: float | None) -> None:
        """The monitor's latest word on `replica`."""


class Unobserved:
    """Routing that reports to no one."""

    def served(self, target: str) -> None:
        return None

    def skipped(self, replica: str, reason: str) -> None:
        return None

    def polled(self, replica: str, up: bool, lag_seconds: float | None) -> None:
        return None
