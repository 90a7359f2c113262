"""The benchmark's Markdown report."""

from __future__ import annotations

from dataclasses import dataclass, field

from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.database import APPROACHES, ClassResult
from gallery_gql.ops.bench.http import LoadResult
from gallery_gql.ops.bench.lean import LEAN, LeanClassResult
from gallery_gql.ops.bench.lean import OURS as LEAN_OURS
from gallery_gql.ops.bench.peer import GENERIC, OURS, TARGETS, PeerReport
from gallery_gql.ops.bench.stats import Summary


@dataclass(frozen=True)
class BenchReport:
    header: list[str]
    database: list[ClassResult]
    http: dict[str, Summary]
    load: list[LoadResult]
    peer: PeerReport | None = None
    peer_skipped: str | None = None  # why there is no peer section
    grid_load: list[LoadResult] = field(default_factory=list)
    """The closed loop over the gallery pages of 25 with grid fields (the target's load)."""
    lean: list[LeanClassResult] = field(default_factory=list)


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _cell(summary: Summary | None) -> str:
    return f"{_ms(summary.p50)} / {_ms(summary.p95)}" if summary else "—"


def _database_table(results: list[ClassResult]) -> list[str]:
    lines = [
        "| class | strategy | ours p50 / p95 / p99 / max | genonaut array p50 / p95 "
        "| genonaut GROUP BY p50 / p95 | p95 ratio (genonaut's better / ours) |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        ours = result.timings[APPROACHES[0]]
        baselines = [result.timings.get(name) for name in APPROACHES[1:]]
        # Against the better of Genonaut's two approaches on this class: below 1, the
        # system replaced was faster here.
        better = _better_baseline(result)
        ratio = _ratio(better / ours.p95) if better else "—"
        lines.append(
            f"| {result.query.name} | {result.strategy} | {_ms(ours.p50)} / {_ms(ours.p95)} / "
            f"{_ms(ours.p99)} / {_ms(ours.max)} | {_cell(baselines[0])} | {_cell(baselines[1])} "
            f"| {ratio} |"
        )
    every = [result.timings[APPROACHES[0]] for result in results]
    samples = sorted(s.p95 for s in every)
    lines.append(
        f"\nWorst class p95: {_ms(samples[-1])} ms; worst max: {_ms(max(s.max for s in every))} ms."
    )
    lines.extend(_worst_baseline_classes(results))
    lines.append(_slower_classes(results))
    return lines


def _better_baseline(result: ClassResult) -> float | None:
    measured = [result.timings[name].p95 for name in APPROACHES[1:] if name in result.timings]
    return min(measured, default=None)


def _slower_classes(results: list[ClassResult]) -> str:
    """The classes where the better of Genonaut's approaches beat ours at p95."""
    slower = [
        f"{result.query.name} ({_ratio(better / result.timings[APPROACHES[0]].p95)})"
        for result in results
        if (better := _better_baseline(result)) is not None
        and better < result.timings[APPROACHES[0]].p95
    ]
    return "Classes slower than Genonaut's better approach (p95): " + (
        ", ".join(slower) if slower else "none."
    )


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2g}x"


def _worst_baseline_classes(results: list[ClassResult]) -> list[str]:
    """Each of Genonaut's approaches on its own worst class (by p95), against ours on that class."""
    lines = []
    for name in APPROACHES[1:]:
        measured = [r for r in results if name in r.timings]
        if not measured:
            continue
        worst = max(measured, key=lambda r: r.timings[name].p95)
        theirs, ours = worst.timings[name].p95, worst.timings[APPROACHES[0]].p95
        lines.append(
            f"{name}: worst class {worst.query.name}, p95 {_ms(theirs)} ms against our "
            f"{_ms(ours)} ms ({_ratio(theirs / ours)})."
        )
    return lines


def _http_table(http: dict[str, Summary], database: list[ClassResult]) -> list[str]:
    db = {result.query.name: result.timings[APPROACHES[0]] for result in database}
    lines = [
        "| class | HTTP p50 / p95 / p99 / max | database p50 | gateway p50 (HTTP - DB) |",
        "|---|---|---|---|",
    ]
    for name, summary in http.items():
        base = db.get(name)
        gateway = _ms(summary.p50 - base.p50) if base else "—"
        lines.append(
            f"| {name} | {_ms(summary.p50)} / {_ms(summary.p95)} / "
            f"{_ms(summary.p99)} / {_ms(summary.max)} | "
            f"{_ms(base.p50) if base else '—'} | {gateway} |"
        )
    return lines


def _errors(result: LoadResult) -> str:
    return ", ".join(f"{k}: {v}" for k, v in result.errors.items()) or "0"


def _load_table(load: list[LoadResult]) -> list[str]:
    lines = [
        "| clients | seconds | requests | req/s | p50 | p95 | p99 | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in load:
        lines.append(
            f"| {result.clients} | {result.seconds:.1f} | {result.requests:,} | "
            f"{result.rate:,.0f} | {_ms(result.latency.p50)} | {_ms(result.latency.p95)} | "
            f"{_ms(result.latency.p99)} | {_errors(result)} |"
        )
    return lines


def _three(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"{_ms(summary.p50)} / {_ms(summary.p95)} / {_ms(summary.p99)}"


def peer_tables(peer: PeerReport) -> list[str]:
    peers = TARGETS[1:]
    lines = [
        f"- peer: {peer.server}, on loopback, the same database (read-only sessions)",
        f"- {GENERIC}: both sources' connections in one request, merged by the client",
        "- one client: the three targets take turns request by request",
        "",
        "| class | "
        + " | ".join(f"{target} p50 / p95 / p99" for target in TARGETS)
        + " | same page as ours (generic / function) |",
        "|---|" + "---|" * (len(TARGETS) + 1),
    ]
    for result in peer.classes:
        cells = " | ".join(_three(result.timings[target]) for target in TARGETS)
        same = " / ".join(result.agrees[target] for target in peers)
        lines.append(f"| {result.name} | {cells} | {same} |")
    lines += [
        "",
        "Closed loop over these classes (those every target answered in time; req/s,",
        "p50 / p95 ms):",
        "",
        "| clients | " + " | ".join(TARGETS) + " | errors |",
        "|---|" + "---|" * (len(TARGETS) + 1),
    ]
    for n, clients in enumerate(result.clients for result in peer.load[OURS]):
        runs = {target: peer.load[target][n] for target in TARGETS}
        cells = " | ".join(
            f"{r.rate:,.0f} req/s, {_ms(r.latency.p50)} / {_ms(r.latency.p95)}"
            for r in runs.values()
        )
        errors = (
            "; ".join(f"{target}: {_errors(r)}" for target, r in runs.items() if r.errors) or "0"
        )
        lines.append(f"| {clients} | {cells} | {errors} |")
    return lines


def _named(query: QueryClass) -> str:
    return f"{query.name} ({query.notes})" if query.notes else query.name


def lean_table(results: list[LeanClassResult]) -> list[str]:
    clients = next((r.load[LEAN_OURS].clients for r in results if r.load), 0)
    lines = [
        "| class | ours p50 / p95 | lean REST p50 / p95 | p50 ratio (ours / lean) "
        f"| ours req/s at {clients} | lean REST req/s at {clients} "
        "| req/s ratio (lean / ours) | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.timed_out:
            lines.append(f"| {_named(result.query)} | | lean REST: statement timed out | | | | | |")
            continue
        ours, lean = result.timings[LEAN_OURS], result.timings[LEAN]
        ours_load, lean_load = result.load[LEAN_OURS], result.load[LEAN]
        errors = [f"{name}: {_errors(loop)}" for name, loop in result.load.items() if loop.errors]
        if result.timeouts:
            errors.append(f"lean REST timed out {result.timeouts}x at one client")
        lines.append(
            f"| {_named(result.query)} | {_cell(ours)} | {_cell(lean)} | "
            f"{_ratio(ours.p50 / lean.p50)} | {ours_load.rate:,.0f} | {lean_load.rate:,.0f} | "
            f"{_ratio(lean_load.rate / ours_load.rate)} | {'; '.join(errors) or '0'} |"
        )
    return lines


def render(report: BenchReport) -> str:
    parts = [
        *report.header,
        "",
        "### Database layer (ms, one connection, warm)",
        "",
        *_database_table(report.database),
    ]
    if report.http:
        parts += [
            "",
            "### Through HTTP (ms, one client, production settings)",
            "",
            *_http_table(report.http, report.database),
        ]
    if report.load:
        parts += [
            "",
            "### Throughput under concurrency (closed loop, ms)",
            "",
            "Every anonymous class in turn (the full mix: 100 per page and tag names too):",
            "",
            *_load_table(report.load),
        ]
    if report.grid_load:
        parts += [
            "",
            "Gallery pages of 25 with grid fields only (every anonymous class but 100 per",
            "page and tag names; the throughput target's load):",
            "",
            *_load_table(report.grid_load),
        ]
    if report.peer or report.peer_skipped:
        parts += ["", "### Peer: PostGraphile (ms, one client, then closed loop)", ""]
        parts += peer_tables(report.peer) if report.peer else [f"Skipped: {report.peer_skipped}."]
    if report.lean:
        parts += [
            "",
            "### Lean REST reference (ms, one client alternating, then closed loop per class)",
            "",
            "Genonaut's tag-array query behind a raw ASGI app (uvicorn, asyncpg, orjson; "
            "ops/bench/lean_rest.py), the same page as our `/graphql`:",
            "",
            *lean_table(report.lean),
        ]
    return "\n".join(parts) + "\n"
