"""Deterministic synthetic data for an empty database, bulk-loaded over asyncpg.

The plan's data is generated with numpy (`plan`), users, tags and items are COPYed as
records (`loaders`), and the junction is COPYed in PostgreSQL's binary format built directly
from numpy arrays (`junction`). Everything happens in one transaction: a failure leaves the
database as it was. Then the planner's pair estimates are computed (`ops.pair_stats`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gallery_gql.ops.pair_stats import refresh_pair_counts_at
from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed.database import (
    SEEDED_TABLES,
    claim_empty_database,
    connect,
    drop_bulk_structures,
    restore_structures,
)
from gallery_gql.ops.seed.junction import load_links
from gallery_gql.ops.seed.loaders import load_counts, load_items, load_tags, load_users
from gallery_gql.ops.seed.plan import SeedPlan, build_dataset

SESSION_SETTINGS = {
    "synchronous_commit": "off",
    "statement_timeout": "0",
    "lock_timeout": "30s",
    "maintenance_work_mem": "512MB",
}


@dataclass(frozen=True)
class SeedReport:
    users: int
    tags: int
    regular_items: int
    auto_items: int
    links: int
    seconds: float


def _ignore(_stage: str, _done: int, _total: int) -> None:
    return None


async def seed_database(
    url: str, plan: SeedPlan, progress: ProgressCallback | None = None
) -> SeedReport:
    """Fill an empty, migrated database with the plan's data; raise SeedError if not empty."""
    report = progress or _ignore
    started = time.perf_counter()
    conn = await connect(url)
    try:
        async with conn.transaction():
            for name, value in SESSION_SETTINGS.items():
                await conn.execute(f"SET LOCAL {name} = '{value}'")
            await claim_empty_database(conn)
            data = build_dataset(plan)
            restore_ddl = await drop_bulk_structures(conn)
            await load_users(conn, data.users, report)
            tag_ids = await load_tags(conn, data.tags, report)
            await load_items(conn, data, plan.seed, tag_ids, report)
            await load_links(conn, data, report)
            await load_counts(conn, data, report)
            await restore_structures(conn, restore_ddl, report)
        report("analyze", 0, 1)
        await conn.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}")
        report("analyze", 1, 1)
    finally:
        await conn.close()
    report("pair estimates", 0, 1)
    await refresh_pair_counts_at(url)
    report("pair estimates", 1, 1)
    regular = int(np.sum(data.items.source == 0))
    return SeedReport(
        users=len(data.users.ids),
        tags=len(data.tags.names),
        regular_items=regular,
        auto_items=len(data.items) - regular,
        links=data.link_total,
        seconds=time.perf_counter() - started,
    )
