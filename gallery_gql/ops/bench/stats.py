"""Latency summaries."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Summary:
        ordered = sorted(samples_ms)

        def pct(q: float) -> float:
            return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

        return cls(len(ordered), statistics.median(ordered), pct(0.95), pct(0.99), ordered[-1])
