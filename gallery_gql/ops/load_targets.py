"""Per database target (the primary, each replica) during a load test, from the served
workers' Prometheus metrics: reads served, lag, reads passed over and failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class TargetReport:
    reads: int = 0
    failed: int = 0
    """Reads that met this replica dead and ran elsewhere."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Reads that passed it over, by reason (down, lagging, behind_write)."""
    lag_max_ms: float = 0.0
    lag_samples_ms: list[float] = field(default_factory=list)


def read_metrics(text: str, targets: dict[str, TargetReport]) -> None:
    """One scrape: counters replace the totals, lags are sampled."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gallery_db_reads_total":
                targets.setdefault(sample.labels["target"], TargetReport()).reads = int(
                    sample.value
                )
            elif sample.name == "gallery_db_replica_skips_total":
                report = targets.setdefault(sample.labels["replica"], TargetReport())
                reason = sample.labels["reason"]
                if reason == "failed":
                    report.failed = int(sample.value)
                else:
                    report.skipped[reason] = int(sample.value)
            elif sample.name == "gallery_db_replica_lag_seconds":
                report = targets.setdefault(sample.labels["replica"], TargetReport())
                report.lag_samples_ms.append(sample.value * 1000)
                report.lag_max_ms = max(report.lag_max_ms, sample.value * 1000)


async def scrape_targets(
    client: httpx.AsyncClient,
    token: str,
    until: Callable[[], float],
    targets: dict[str, TargetReport],
) -> None:
    """Scrape /metrics (with the deployment's metrics token) twice a second until the
    (monotonic) time `until()` gives, which may move, and once after."""
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        done = time.monotonic() >= until()
        try:
            response = await client.get("/metrics", headers=headers, follow_redirects=True)
            if response.status_code == 200:
                read_metrics(response.text, targets)
        except httpx.HTTPError:
            pass  # a missed sample; the next one counts
        if done:
            return
        await asyncio.sleep(min(0.5, max(0.0, until() - time.monotonic())))


def render_targets(targets: dict[str, TargetReport]) -> list[str]:
    lines = [
        "| target | reads served | lag p50 / max ms | passed over | failed under a read |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(targets, key=lambda n: (n != "primary", n)):
        report = targets[name]
        lags = sorted(report.lag_samples_ms)
        lag = f"{lags[len(lags) // 2]:.0f} / {report.lag_max_ms:.0f}" if lags else "-"
        skipped = ", ".join(f"{k} {v:,}" for k, v in sorted(report.skipped.items())) or "0"
        lines.append(f"| {name} | {report.reads:,} | {lag} | {skipped} | {report.failed:,} |")
    return lines
