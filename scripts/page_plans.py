"""Every page statement of the bench's mix under a generic plan against a custom one.

For every class of the bench's mix (`ops/bench/classes.py`, deep pages reached by
cursor), the page is read as the gateway reads it (`fetch_page`); the statement it sent
is then prepared on a connection of its own and explained under `force_generic_plan` and
`force_custom_plan` (`ops/bench/plans.explain_both`: planning and execution medians), and
the plan the gateway gives it is shown (`fetch.page_read`: generic or custom).
With `--sweep`, the cells of `scripts/shape_sweep.py` (its shapes at the given tag ranks,
pages 1 and 20) too. A class whose generic plan executes in more than twice its custom
plan's time and 0.5 ms more is marked; it fails when the gateway plans it generically.
Exit status 1 when one fails.

    DATABASE_URL=... .venv/bin/python scripts/page_plans.py [--rounds 7] [--sweep 5,20,50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any
from uuid import UUID

from sqlalchemy import event

from gallery_gql.db.engine import create_engine
from gallery_gql.db.raw import Plan
from gallery_gql.gallery.query.fetch import fetch_page, page_read, plan_page
from gallery_gql.gallery.query.sql import whole_item_columns
from gallery_gql.gallery.query.tag_stats import resolve_tags
from gallery_gql.ops.bench.classes import QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, measured_request, tag_ids
from gallery_gql.ops.bench.plans import explain_both
from gallery_gql.settings import Settings

SLOWER_SHARE = 2.0
SLOWER_MS = 0.5


def _gateway_plan(query: QueryClass, flt: Any, request: Any, stats: Any) -> Plan:
    """How the gateway plans the page's statement (`fetch.page_read`)."""
    planned = plan_page(flt, query.sort, request, stats)
    probe = planned.probe.shape if planned.probe is not None else None
    return page_read(planned.main.shape, probe, whole_item_columns(query.tag_names))[1]


def sweep_cells(corpus: Any, ranks: list[int]) -> list[QueryClass]:
    """`scripts/shape_sweep.py`'s cells: each shape at each rank, pages 1 and 20."""
    from shape_sweep import SHAPES  # the script beside this one

    cells = []
    for label, k, match, sort in SHAPES:
        for rank in ranks:
            chosen = corpus.by_count[rank : rank + k]
            if len(chosen) == k:
                tags = tuple(key for key, _ in chosen)
                for page in (1, 20):
                    name = f"{label} ranks {rank}-{rank + k - 1} page {page}"
                    cells.append(
                        QueryClass(name, tags, match, sort=sort, page=page, baselines=False)
                    )
    return cells


async def main(rounds: int, ranks: list[int]) -> int:
    engine = create_engine(os.environ["DATABASE_URL"], Settings(statement_timeout_ms=600_000))
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def record(conn: Any, cursor: Any, sql: str, arguments: Any, *rest: Any) -> None:
        sent.append((sql, tuple(arguments or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    failed = 0
    print(
        f"{'class':32s} {'strategy':26s} planning generic / custom, execution generic / custom (ms)"
    )
    async with engine.connect() as conn:
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        for query in build_classes(corpus) + sweep_cells(corpus, ranks):
            flt = content_filter(query, corpus.viewer)
            uuids = [UUID(ids[k]) for k in (*query.tags, *query.exclude)]
            stats = (await resolve_tags(conn, uuids)).stats
            request = await measured_request(conn, query, flt, stats)
            sent.clear()
            page = await fetch_page(
                conn, flt, query.sort, request, stats, item_tags=query.tag_names
            )
            if not sent:
                continue
            sql, arguments = sent[-1]
            if sql.startswith("SELECT * FROM (") and "AS generic WHERE" in sql:
                sql = sql[len("SELECT * FROM (") : sql.rindex(") AS generic WHERE")]
            generic_here = _gateway_plan(query, flt, request, stats) is not Plan.CUSTOM
            both = await explain_both(url, sql, arguments, rounds)
            generic, custom = both["force_generic_plan"], both["force_custom_plan"]
            slower = generic["execution"] > max(
                SLOWER_SHARE * custom["execution"], custom["execution"] + SLOWER_MS
            )
            failed += slower and generic_here
            mark = ("  SLOWER GENERIC" if slower else "") + (
                "  FAIL" if slower and generic_here else ""
            )
            print(
                f"{query.name:40s} {page.strategy:26s} {'generic' if generic_here else 'custom':8s}"
                f" {generic['planning']:.3f} / {custom['planning']:.3f},"
                f" {generic['execution']:.3f} / {custom['execution']:.3f}{mark}",
                flush=True,
            )
    await engine.dispose()
    print(f"{failed} class(es) planned generically whose generic plan is slower")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sweep", default="", help="comma-separated tag ranks")
    args = parser.parse_args()
    ranks = [int(rank) for rank in args.sweep.split(",") if rank]
    sys.exit(asyncio.run(main(args.rounds, ranks)))
