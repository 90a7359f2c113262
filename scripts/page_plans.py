"""Every page statement of the bench's mix under a generic plan against a custom one.

For every class of the bench's mix (`ops/bench/classes.py`, deep pages reached by
cursor), the page is read as the gateway reads it (`fetch_page`); the statement it sent
is then prepared on a connection of its own and explained under `force_generic_plan` and
`force_custom_plan` (`ops/bench/plans.explain_both`: planning and execution medians).
A class fails when its generic plan executes in more than twice its custom plan's time
and 0.5 ms more: such a statement must not be planned once per session. Exit status 1
when one fails.

    DATABASE_URL=... .venv/bin/python scripts/page_plans.py [--rounds 7]
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
from gallery_gql.gallery.query.fetch import fetch_page
from gallery_gql.gallery.query.tag_stats import resolve_tags
from gallery_gql.ops.bench.classes import build_classes, load_corpus
from gallery_gql.ops.bench.database import content_filter, measured_request, tag_ids
from gallery_gql.ops.bench.plans import explain_both
from gallery_gql.settings import Settings

SLOWER_SHARE = 2.0
SLOWER_MS = 0.5


async def main(rounds: int) -> int:
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
        for query in build_classes(corpus):
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
            both = await explain_both(url, sql, arguments, rounds)
            generic, custom = both["force_generic_plan"], both["force_custom_plan"]
            slower = generic["execution"] > max(
                SLOWER_SHARE * custom["execution"], custom["execution"] + SLOWER_MS
            )
            failed += slower
            print(
                f"{query.name:32s} {page.strategy:26s} {generic['planning']:.3f} /"
                f" {custom['planning']:.3f}, {generic['execution']:.3f} /"
                f" {custom['execution']:.3f}{'  SLOWER GENERIC' if slower else ''}",
                flush=True,
            )
    await engine.dispose()
    print(f"{failed} class(es) whose generic plan is slower")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
