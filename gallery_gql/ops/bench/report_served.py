"""The served comparisons' Markdown report (scripts/served_bench.py): PostGraphile, the
lean REST reference, and the native load generator beside the Python one."""

from __future__ import annotations

from gallery_gql.ops.bench.http import LoadResult
from gallery_gql.ops.bench.native import GENERATORS, NativeResult
from gallery_gql.ops.bench.report import _errors, _ms, lean_table, peer_tables
from gallery_gql.ops.bench.served import ServedReport

RANGE = "\N{EN DASH}"


def _span(values: list[float]) -> str:
    low, high = _ms(min(values)), _ms(max(values))
    return low if low == high else f"{low}{RANGE}{high}"


def _rates(runs: list[LoadResult]) -> str:
    low, high = min(r.rate for r in runs), max(r.rate for r in runs)
    return f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}{RANGE}{high:,.0f}"


def _latencies(runs: list[LoadResult]) -> str:
    return " / ".join(
        _span([getattr(r.latency, name) for r in runs]) for name in ("p50", "p95", "p99")
    )


def native_table(results: list[NativeResult]) -> list[str]:
    """One row per class and target: each generator's req/s and p50 / p95 / p99 (ms),
    ranges over the rounds."""
    rows: dict[tuple[str, str], dict[str, list[LoadResult]]] = {}
    for result in results:
        rows.setdefault((result.name, result.target), {})[result.generator] = result.runs
    head = " | ".join(f"{g} req/s | {g} p50 / p95 / p99" for g in GENERATORS)
    lines = [f"| class | target | {head} | errors |", "|---|---|" + "---|" * 5]
    for (name, target), by_generator in rows.items():
        cells = " | ".join(
            f"{_rates(by_generator[g])} | {_latencies(by_generator[g])}" for g in GENERATORS
        )
        errors = "; ".join(
            f"{g}: {_errors(run)}" for g in GENERATORS for run in by_generator[g] if run.errors
        )
        lines.append(f"| {name} | {target} | {cells} | {errors or '0'} |")
    return lines


def render_served(report: ServedReport, header: list[str]) -> str:
    parts = [*header]
    if report.peer:
        parts += ["", "### Peer: PostGraphile (ms, one client, then closed loop)", ""]
        parts += peer_tables(report.peer)
    if report.lean:
        parts += [
            "",
            "### Lean REST reference (ms, one client alternating, then closed loop per class)",
            "",
            *lean_table(report.lean),
        ]
    if report.native:
        runs = report.native[0].runs
        parts += [
            "",
            f"### Native load generator: wrk beside aiohttp ({runs[0].clients} keep-alive "
            f"connections, {len(runs)} round(s), targets and generators in turn)",
            "",
            f"- PostGraphile: {report.native_server}",
            "",
            *native_table(report.native),
        ]
    parts += [f"\nSkipped: {reason}." for reason in report.skipped]
    return "\n".join(parts) + "\n"
