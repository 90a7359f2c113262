"""Our page strategy as a PostgreSQL function, so the peer can serve it as a root field.

`peer.gallery_page` answers the anonymous NEWEST page for tags (ANY or ALL) and
excluded tags, after an optional keyset position, with the shapes of
`gallery/query/plan.py`: one branch per source, each walking an ordered index under its
own LIMIT (the item table's sort index without tags; one junction walk per tag for ANY;
the rarest tag's walk with a count probe of the others for ALL; NOT EXISTS probes for
exclusions), merged by the outer ORDER BY ... LIMIT. The statements are static, so
PL/pgSQL caches their plans as asyncpg caches ours, and a page with exclusions asks for
custom plans as the app's connections do (`plan_cache_mode`, db/engine.py).

It lives in its own schema, created by the benchmark, never by the app's migrations.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.query.plan import OVERLAP_WALK_MAX_ROWS

SCHEMA = "peer"
ITEM_TYPE = f"{SCHEMA}.gallery_item"
FUNCTION = f"{SCHEMA}.gallery_page"

# Past the keyset bound in NEWEST order, ties broken on (source, id) descending. The
# plain `<=` is the index condition; the row comparison, with the branch's source as a
# constant, makes it exact.
_AFTER = "{at} <= bound_at AND ({at}, {source}, {id}) < (bound_at, after_source, after_item_id)"
# Probes look links up by their whole key in the unique ix_content_tags_newest (the
# item's created_at completes it), as `plan._excluded` / `_carries_all` do.
_NOT_EXCLUDED = (
    "(cardinality(exclude_keys) = 0 OR NOT EXISTS (SELECT 1 FROM public.content_tags x"
    " WHERE x.tag_key = ANY (exclude_keys) AND x.source = {source}"
    " AND x.created_at = {at} AND x.item_id = {id}))"
)
_MERGED = "\n        UNION ALL "


def _items_walk(source: int, table: str, condition: str = "") -> str:
    """The item table's (created_at DESC, id DESC) index: without tags, or for ANY of
    common tags testing each row's tag array (`condition`)."""
    after = _AFTER.format(at="i.created_at", source=source, id="i.id")
    kept = _NOT_EXCLUDED.format(source=source, at="i.created_at", id="i.id")
    return (
        f"(SELECT {source}::smallint AS source, i.id, i.created_at FROM public.{table} i"
        f" WHERE NOT i.is_private AND {kept} AND {after}{condition}"
        " ORDER BY i.created_at DESC, i.id DESC LIMIT page_size)"
    )


def _postings(source: int, table: str, tag: str, probe: str = "") -> str:
    """One tag's postings along the junction's (tag_key, source, created_at DESC,
    item_id DESC) index, with the item's privacy and exclusions checked."""
    after = _AFTER.format(at="p.created_at", source=source, id="p.item_id")
    kept = _NOT_EXCLUDED.format(source=source, at="p.created_at", id="p.item_id")
    return (
        f"SELECT {source}::smallint AS source, p.item_id AS id, p.created_at"
        f" FROM public.content_tags p JOIN public.{table} i ON i.id = p.item_id"
        f" WHERE p.tag_key = {tag} AND p.source = {source} AND {after}{probe}"
        f" AND {kept} AND NOT i.is_private"
        " ORDER BY p.created_at DESC, p.item_id DESC LIMIT page_size"
    )


def _any_walk(source: int, table: str) -> str:
    """ANY, as `plan.branches` picks per source: for common tags, one walk of the
    item table testing the tag array; otherwise one limited walk per wanted tag (an item
    in the page's top n is in its own tag's top n). The unused shape is a constant-false
    branch that custom planning prunes."""
    overlap = (
        f" AND overlap_{source}"
        " AND i.tags && ARRAY(SELECT g.id FROM public.tags g WHERE g.tag_key = ANY (tag_set))"
    )
    walk = _postings(source, table, "t.tag_key")
    return (
        f"{_items_walk(source, table, overlap)}{_MERGED}(SELECT w.* FROM unnest(wanted)"
        f" AS t(tag_key) CROSS JOIN LATERAL ({walk}) w WHERE NOT overlap_{source})"
    )


def _all_walk(source: int, table: str) -> str:
    """ALL: the walk of this source's rarest tag, probing that it carries the others."""
    probe = (
        f" AND (SELECT count(*) FROM public.content_tags r WHERE r.tag_key = ANY (others_{source})"
        f" AND r.source = {source} AND r.created_at = p.created_at AND r.item_id = p.item_id)"
        f" = cardinality(others_{source})"
    )
    return f"({_postings(source, table, f'driver_{source}', probe)})"


def _page(walk: str, *, distinct: bool) -> str:
    """The merged branches in page order, joined to the grid's columns."""
    keys = "DISTINCT source, id, created_at" if distinct else "source, id, created_at"
    lookups = " UNION ALL ".join(
        f"SELECT title, path_thumb, quality_score, creator_id FROM public.{table.name}"
        f" WHERE k.source = {source} AND id = k.id"
        for source, table in CONTENT_TABLES.items()
    )
    return f"""RETURN QUERY
      SELECT k.source, k.id, i.title, i.path_thumb, i.quality_score, k.created_at,
             i.creator_id
      FROM (SELECT {keys} FROM (
        {walk}) u
        ORDER BY created_at DESC, source DESC, id DESC LIMIT page_size) k
      CROSS JOIN LATERAL ({lookups}) i
      ORDER BY k.created_at DESC, k.source DESC, k.id DESC;"""


def _walks(walk_of: Callable[[int, str], str]) -> str:
    return _MERGED.join(walk_of(source, table.name) for source, table in CONTENT_TABLES.items())


def _drivers() -> str:
    """Each source's rarest tag by the exact counts, ties to the lower key (as
    `plan.rarest`), and the tags left to probe."""
    return "\n    ".join(
        f"driver_{source} := (SELECT k FROM unnest(tag_set) AS k LEFT JOIN public.tag_counts c"
        f" ON c.tag_key = k AND c.source = {source} ORDER BY coalesce(c.items, 0), k LIMIT 1);"
        f"\n    others_{source} := array_remove(tag_set, driver_{source});"
        for source in CONTENT_TABLES
    )


def _overlaps() -> str:
    """Whether each source's ANY walks the item table, by the rule and threshold of
    `plan.walks_items_for_any` (page_size + 1 rows, as our walks fetch)."""
    return "\n    ".join(
        f"overlap_{source} := coalesce((page_size + 1) * nullif((SELECT reltuples FROM"
        f" pg_class WHERE oid = 'public.{table.name}'::regclass), -1)"
        f" / nullif((SELECT max(c.items) FROM public.tag_counts c WHERE c.source = {source}"
        f" AND c.tag_key = ANY (tag_set)), 0) <= {OVERLAP_WALK_MAX_ROWS}, false);"
        for source, table in CONTENT_TABLES.items()
    )


def install_statements() -> list[str]:
    declarations = "\n  ".join(
        f"driver_{source} int;\n  others_{source} int[];\n  overlap_{source} boolean;"
        for source in CONTENT_TABLES
    )
    body = f"""
DECLARE
  tag_set int[] := ARRAY(SELECT DISTINCT k FROM unnest(tag_keys) AS k ORDER BY k);
  wanted int[] := ARRAY(SELECT k FROM unnest(tag_set) AS k WHERE k <> ALL (exclude_keys));
  bound_at timestamptz := coalesce(after_created_at, 'infinity');
  {declarations}
BEGIN
  IF cardinality(exclude_keys) > 0 THEN
    -- A generic plan for exclusions ran 1 s where a custom one runs ~6 ms (docs/benchmarks.md).
    PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
  END IF;
  IF cardinality(tag_set) = 0 THEN
    {_page(_walks(_items_walk), distinct=False)}
  ELSIF match_all AND cardinality(tag_set) > 1 THEN
    IF tag_set && exclude_keys THEN
      RETURN;
    END IF;
    {_drivers()}
    {_page(_walks(_all_walk), distinct=False)}
  ELSE
    {_overlaps()}
    {_page(_walks(_any_walk), distinct=True)}
  END IF;
END
"""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"DROP FUNCTION IF EXISTS {FUNCTION}",
        f"DROP TYPE IF EXISTS {ITEM_TYPE}",
        f"""CREATE TYPE {ITEM_TYPE} AS (source smallint, id integer, title varchar(255),
  path_thumb text, quality_score double precision, created_at timestamptz, creator_id uuid)""",
        f"""CREATE FUNCTION {FUNCTION}(
  tag_keys int[] DEFAULT '{{}}', match_all boolean DEFAULT false,
  exclude_keys int[] DEFAULT '{{}}', page_size integer DEFAULT 25,
  after_created_at timestamptz DEFAULT NULL, after_source integer DEFAULT NULL,
  after_item_id integer DEFAULT NULL)
RETURNS SETOF {ITEM_TYPE} LANGUAGE plpgsql STABLE AS $fn${body}$fn$""",
    ]


async def install(conn: AsyncConnection) -> None:
    """(Re)create the schema, type and function; idempotent."""
    for statement in install_statements():
        await conn.exec_driver_sql(statement)
