"""A statement as the gateway sent it, prepared on a connection of its own and explained
with `EXPLAIN (ANALYZE, BUFFERS) EXECUTE` under a generic and a custom plan: which plan
each mode makes, and what planning and execution cost (medians). For the scripts that
prove which statements may be planned once per session (scripts/matching_set_plans.py,
scripts/page_plans.py)."""

from __future__ import annotations

import json
import statistics
from typing import Any

import asyncpg

MODES = ("force_generic_plan", "force_custom_plan")


async def _literals(conn: asyncpg.Connection, arguments: tuple[Any, ...]) -> str:
    """The prepared statement's arguments written as SQL literals (EXECUTE inside EXPLAIN
    takes no bound parameters)."""
    types = await conn.fetchval(
        "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'explained'"
    )
    literals = [
        await conn.fetchval(f"SELECT quote_literal($1::{kind}::text) || '::{kind}'", value)
        for kind, value in zip(types, arguments, strict=True)
    ]
    return f"({', '.join(literals)})" if literals else ""


async def _explain(conn: asyncpg.Connection, mode: str, literals: str) -> dict[str, Any]:
    await conn.execute(f"SET plan_cache_mode = {mode}")
    text = await conn.fetchval(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE explained{literals}"
    )
    explained: dict[str, Any] = json.loads(text)[0]
    return explained


async def explain_both(
    url: str, sql: str, arguments: tuple[Any, ...], rounds: int
) -> dict[str, dict[str, Any]]:
    """Per mode: the last run's plan, and the planning and execution medians (ms)."""
    conn = await asyncpg.connect(url, server_settings={"jit": "off"})
    try:
        await conn.execute(f"PREPARE explained AS {sql}")
        literals = await _literals(conn, arguments)
        out: dict[str, dict[str, Any]] = {}
        for mode in MODES:
            runs = [await _explain(conn, mode, literals) for _ in range(rounds)]
            out[mode] = {
                "plan": runs[-1]["Plan"],
                "planning": statistics.median(r["Planning Time"] for r in runs),
                "execution": statistics.median(r["Execution Time"] for r in runs),
            }
        return out
    finally:
        await conn.close()
