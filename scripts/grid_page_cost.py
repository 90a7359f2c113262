"""The compiled grid page's read, old way against new, alternated in one process: the
page read (`fetch_page_rows`) with every item column (but the tag array) against only
those the grid's fields read (`ItemPlan.columns`), and each field's completed getters over
the page's 25 items (where a page's rendering goes).

The grid is the bench's (`id title thumbnail createdAt source qualityScore`), one tag
(ANY), newest first, 25 items, read on the application's read engine (autocommit, with
its generic-plan sessions). Each round times every way `--calls` times and prints CPU
microseconds per call (this process: the driver's decoding included, the server's work
not), p50 and p95; the ways alternate within the round.

    export DATABASE_URL=postgresql+asyncpg://gallery@127.0.0.1:49395/gallery
    flock /tmp/bench.lock .venv/bin/python scripts/grid_page_cost.py --tag <uuid> --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import uvloop
from graphql import parse
from graphql.execution.values import VariableValues

from gallery_gql.api.documents.gallery_plans import ItemPlan, item_plan
from gallery_gql.api.documents.plans import BoundVariables, Compiler
from gallery_gql.api.schema import build_schema
from gallery_gql.db.engine import autocommit, create_engine
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.fetch import fetch_page_rows
from gallery_gql.gallery.query.filters import ContentFilter, PageRequest, Sort, TagMatch
from gallery_gql.gallery.query.sql import whole_item_columns
from gallery_gql.gallery.query.tag_stats import resolve_tags
from gallery_gql.settings import Settings

GRID = "id title thumbnail createdAt source qualityScore"


def grid_plan(settings: Settings) -> ItemPlan:
    schema = build_schema(settings)
    compiler = Compiler(schema._schema, {}, schema.config.name_converter)
    operation = parse("{ " + GRID + " }").definitions[0]
    selections = compiler.collect(
        compiler.object_type("ContentItem"),
        [operation.selection_set],  # type: ignore[attr-defined]
    )
    return item_plan(compiler, selections, "/media/")


def _cpu_us(call: Callable[[], Any]) -> float:
    started = time.process_time()
    call()
    return (time.process_time() - started) * 1e6


async def _acpu_us(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.process_time()
    await call()
    return (time.process_time() - started) * 1e6


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.1f}  p95 {p95:7.1f} us"


async def main(tag: UUID, rounds: int, calls: int) -> None:
    url = os.environ["DATABASE_URL"]
    settings = Settings(database_url=url, secret="grid-page-cost-" + "x" * 32)
    plan = grid_plan(settings)
    variables = BoundVariables(VariableValues({}, {}))
    engine = autocommit(create_engine(url, settings))
    try:
        async with engine.connect() as conn:
            resolved = await resolve_tags(conn, [tag])
            flt = ContentFilter(
                tag_keys=(resolved.by_id[tag].tag_key,),
                match=TagMatch.ANY,
                sources=tuple(Source),
            )
            request = PageRequest(25)

            def read(columns: frozenset[str]) -> Callable[[], Awaitable[Any]]:
                return lambda: fetch_page_rows(
                    conn,
                    flt,
                    Sort.NEWEST,
                    request,
                    resolved.stats,
                    columns,
                )

            reads = {
                "read, every column": read(whole_item_columns(False)),
                "read, the grid's": read(plan.columns),
            }
            rows = (await reads["read, every column"]()).rows
            assert len(rows) == 25, "the tag must have 25 items or more"
            projected = (await reads["read, the grid's"]()).rows
            rendered = await plan.render(rows, None, variables)  # type: ignore[arg-type]
            assert await plan.render(projected, None, variables) == rendered  # type: ignore[arg-type]
            getters = [
                (key, plan._thumbnail(need, variables) if kind == "thumbnail" else need)
                for key, kind, need in plan.fields
            ]
            renders = {
                f"render {key}": (lambda get=get: [get(row) for row in rows])
                for key, get in getters
            }
            for _ in range(200):  # warm-up: statements prepared, sessions open
                for way in reads.values():
                    await way()
            for number in range(rounds):
                times: dict[str, list[float]] = {name: [] for name in [*reads, *renders]}
                for _ in range(calls):
                    for name, fetch in reads.items():
                        times[name].append(await _acpu_us(fetch))
                    for name, render in renders.items():
                        times[name].append(_cpu_us(render))
                for name, values in times.items():
                    print(f"round {number + 1}  {name:24} {_summary(values)}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", type=UUID, required=True, help="a tag of 25 items or more")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500, help="timed calls a way a round")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (see the docstring)")
    uvloop.run(main(args.tag, args.rounds, args.calls))
