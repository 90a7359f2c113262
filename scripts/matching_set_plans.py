"""The generic plans of the matching-set pages, proven and timed against custom ones.

For every class of the bench's mix (`ops/bench/classes.py`) whose page is read as one
matching set, the page is read as the gateway reads it (`fetch_page`, the bench's
request: deep pages reached by cursor; it says whether the gateway ran it under a generic
plan, `matching_sql.matching_set_plan`; the engine here keeps no generic-plan
session, so a first page runs custom), and its statement, as sent, is then prepared on a
connection of its own and explained with `EXPLAIN (ANALYZE, BUFFERS) EXECUTE` twice:
under `force_generic_plan` and `force_custom_plan` (planning and execution medians). A
generic plan passes when every item table is read by a bitmap scan of its tag-array GIN
index and by nothing else (no sort index walked, no sequential scan). Then
`pg_prepared_statements` of the reading connection shows which plans its statements with
parameters ran (one without is always planned once): generic for the matching sets that
ran so only, custom for every other. Exit status 1 when a plan fails.

    DATABASE_URL=... .venv/bin/python scripts/matching_set_plans.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from sqlalchemy import event

from gallery_gql.db.engine import create_engine
from gallery_gql.db.generic_sessions import GENERIC_PLANS
from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.query.fetch import fetch_page
from gallery_gql.gallery.query.tag_stats import resolve_tags
from gallery_gql.ops.bench.classes import QueryClass, build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, measured_request, tag_ids
from gallery_gql.ops.bench.plans import explain_both
from gallery_gql.settings import Settings

ITEM_TABLES = {table.name for table in CONTENT_TABLES.values()}


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_faults(plan: dict[str, Any]) -> list[str]:
    """What keeps a plan from being the intended one (empty: it is)."""
    faults = []
    read = set()
    for node in _nodes(plan):
        relation = node.get("Relation Name")
        index = node.get("Index Name", "")
        if node["Node Type"] == "Bitmap Index Scan":
            if not index.endswith("_tags"):
                faults.append(f"bitmap of {index}")
        elif relation in ITEM_TABLES:
            if node["Node Type"] != "Bitmap Heap Scan":
                faults.append(f"{node['Node Type']} on {relation} {index}".strip())
            read.add(relation)
    return faults + [f"{name} not read" for name in ITEM_TABLES - read]


async def main(rounds: int) -> int:
    url = os.environ["DATABASE_URL"]
    engine = create_engine(url, Settings(statement_timeout_ms=600_000))
    driver_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def record(conn: Any, cursor: Any, sql: str, arguments: Any, *rest: Any) -> None:
        sent.append((sql, tuple(arguments or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    failed = 0
    async with engine.connect() as conn:
        corpus = await load_corpus(conn)
        ids = await tag_ids(conn)
        for query in build_classes(corpus):
            failed += await _class(conn, driver_url, query, corpus, ids, sent, rounds)
        statements = await conn.exec_driver_sql(
            "SELECT generic_plans, custom_plans, statement LIKE '%%AS generic WHERE%%'"
            " FROM pg_prepared_statements WHERE parameter_types <> '{}'"
        )
        rows: list[Any] = list(statements)
        used = [(int(r[0]), int(r[1]), bool(r[2])) for r in rows]
    await engine.dispose()
    generic = [r for r in used if r[2]]
    others = [r for r in used if not r[2]]
    print(
        f"reading connection: {len(generic)} matching-set statements, generic plans"
        f" {sum(r[0] for r in generic)}, custom {sum(r[1] for r in generic)};"
        f" {len(others)} others, generic plans {sum(r[0] for r in others)},"
        f" custom {sum(r[1] for r in others)}"
    )
    if any(r[1] for r in generic) or any(r[0] for r in others):
        failed += 1
    return 1 if failed else 0


async def _class(
    conn: Any,
    url: str,
    query: QueryClass,
    corpus: Any,
    ids: dict[int, str],
    sent: list[tuple[str, tuple[Any, ...]]],
    rounds: int,
) -> int:
    flt = content_filter(query, corpus.viewer)
    stats = (await resolve_tags(conn, [UUID(ids[k]) for k in (*query.tags, *query.exclude)])).stats
    request = await measured_request(conn, query, flt, stats)
    sent.clear()
    page = await fetch_page(conn, flt, query.sort, request, stats, item_tags=query.tag_names)
    if page.strategy != "tag-array-set":
        return 0
    runs_generic = len(sent) > 1 and sent[-2][0] == GENERIC_PLANS
    sql, arguments = sent[-1]
    proven = await explain_both(url, sql, arguments, rounds)
    generic, custom = proven["force_generic_plan"], proven["force_custom_plan"]
    faults = plan_faults(generic["plan"])
    print(
        f"{query.name:24s} {'runs generic' if runs_generic else 'runs custom'},"
        f" generic plan {'ok' if not faults else 'NOT OK: ' + ', '.join(faults)};"
        f" planning generic {generic['planning']:.3f} ms / custom {custom['planning']:.3f} ms,"
        f" execution {generic['execution']:.3f} / {custom['execution']:.3f} ms"
    )
    return 1 if faults else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
