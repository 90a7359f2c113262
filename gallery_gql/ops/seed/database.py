"""The database side of seeding: connecting, the emptiness check and claim, and the
big tables' indexes and foreign keys set aside for the load and rebuilt after it."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from gallery_gql.ops.progress import ProgressCallback
from gallery_gql.ops.seed.plan import SeedError

CONTENT_TABLES = ("content_items", "content_items_auto")
SEEDED_TABLES = (
    "users",
    "tags",
    "tag_parents",
    *CONTENT_TABLES,
    "content_tags",
    "tag_counts",
)
# Tables whose non-constraint indexes are dropped for the load and rebuilt from their
# captured definitions afterwards (building once is far cheaper than maintaining per row).
BULK_INDEXED_TABLES = (*CONTENT_TABLES, "content_tags")


def asyncpg_dsn(url: str) -> str:
    """An SQLAlchemy URL (`postgresql+asyncpg://...`) as a plain libpq-style DSN."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(url: str) -> Any:
    return await asyncpg.connect(asyncpg_dsn(url))


_EMPTY_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM users)
   AND NOT EXISTS (SELECT 1 FROM content_items)
   AND NOT EXISTS (SELECT 1 FROM content_items_auto)
"""


async def database_is_empty(url: str) -> bool:
    """True when the database holds no users and no content items."""
    conn = await connect(url)
    try:
        return bool(await conn.fetchval(_EMPTY_SQL))
    finally:
        await conn.close()


async def claim_empty_database(conn: Any) -> None:
    """Lock every seeded table, then refuse unless all of them are empty."""
    try:
        await conn.execute(f"LOCK TABLE {', '.join(SEEDED_TABLES)} IN ACCESS EXCLUSIVE MODE")
    except asyncpg.LockNotAvailableError as exc:
        raise SeedError("the gallery tables are in use by other sessions; stop them") from exc
    occupied = [t for t in SEEDED_TABLES if await conn.fetchval(f"SELECT EXISTS (TABLE {t})")]
    if occupied:
        raise SeedError(
            "seeding needs an empty database, but these tables hold rows: " + ", ".join(occupied)
        )


_BULK_CONSTRAINTS_SQL = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_ddl,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s',
              conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create_ddl
FROM pg_constraint
WHERE conrelid = ANY($1::regclass[]) AND contype::text = $2
ORDER BY conrelid::regclass::text, conname
"""
_BULK_INDEXES_SQL = """
SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS drop_ddl,
       pg_get_indexdef(i.indexrelid) AS create_ddl
FROM pg_index i
WHERE i.indrelid = ANY($1::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text
"""


async def drop_bulk_structures(conn: Any) -> list[str]:
    """Drop the big tables' foreign keys and their indexes that back no constraint (the
    junction has no constraint index: its unique index is a plain one); return the DDL that
    recreates them, in the order to run it.

    Per-row foreign-key triggers and index maintenance dominate a bulk load; building each
    index once and validating each foreign key with one join afterwards is far cheaper.
    The DDL comes from the catalog, so the rebuilt objects are identical to the dropped ones.
    """
    tables = list(BULK_INDEXED_TABLES)
    groups = (
        await conn.fetch(_BULK_CONSTRAINTS_SQL, tables, "f"),
        await conn.fetch(_BULK_INDEXES_SQL, tables),
    )
    for rows in groups:
        for row in rows:
            await conn.execute(row["drop_ddl"])
    foreign_keys, indexes = ([str(r["create_ddl"]) for r in g] for g in groups)
    return [*indexes, *foreign_keys]


async def restore_structures(conn: Any, ddl: list[str], progress: ProgressCallback) -> None:
    progress("indexes", 0, len(ddl))
    for done, statement in enumerate(ddl, start=1):
        await conn.execute(statement)
        progress("indexes", done, len(ddl))


async def reset_identity(conn: Any, table: str, column: str, last: int) -> None:
    await conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), $1, $2)",
        max(last, 1),
        last > 0,
    )
