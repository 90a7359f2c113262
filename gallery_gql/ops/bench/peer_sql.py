"""Our page strategy as a PostgreSQL function, so the peer can serve it as a root field.

`peer.gallery_page` answers a NEWEST or TOP_RATED page for tags (ANY or ALL) and
excluded tags, after an optional keyset position, for an anonymous or a signed-in
viewer, with the shapes of `gallery/query/plan.py` and `sql.py`: one branch per source,
each under its own LIMIT, merged by the outer ORDER BY ... LIMIT.

- NEWEST: the item table's sort index without tags; ANY of common tags walks it testing
  the tag array, otherwise one junction walk per tag; ALL walks the rarest tag's
  postings probing the others, capped where the GIN bitmap would cost less (then the
  bitmap answers when the walk falls short); exclusions are NOT EXISTS probes.
- TOP_RATED: the quality index without tags, or with tags expected to fill within
  `RATED_WALK_MAX_ROWS` (ALL capped at `RATED_ALL_WALK_CAP`, then the bitmap); rarer tags
  read the GIN bitmap and sort.

The viewer is the `viewer_id` claim of the JWT PostGraphile verified (it sets
`jwt.claims.viewer_id` for the transaction): a signed-in viewer also sees their own
private items. The statements are static, so PL/pgSQL caches them as asyncpg caches
ours, and the function asks for custom plans as the app's connections do (db/engine.py):
the unused shapes are constant-false branches that custom planning prunes.

It lives in its own schema, created by the benchmark, never by the app's migrations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.query.plan_costs import GIN_US_PER_ENTRY, PROBE_US
from gallery_gql.gallery.query.plan_rules import (
    ALL_WALK_MIN_CAP,
    OVERLAP_WALK_MAX_ROWS,
    RATED_ALL_WALK_CAP,
    RATED_WALK_MAX_ROWS,
)

SCHEMA = "peer"
ITEM_TYPE = f"{SCHEMA}.gallery_item"
FUNCTION = f"{SCHEMA}.gallery_page"
VIEWER_CLAIM = "viewer_id"

_MERGED = "\n        UNION ALL "


@dataclass(frozen=True)
class _Order:
    column: str  # the item column the page is sorted by (descending)
    bound: str  # the PL/pgSQL variable holding the keyset bound's value


NEWEST = _Order("created_at", "bound_at")
TOP_RATED = _Order("quality_score", "bound_q")


def _after(order: _Order, value: str, source: int, item_id: str) -> str:
    """Past the keyset bound in page order, ties broken on (source, id) descending. The
    plain `<=` is the index condition; the row comparison, with the branch's source as a
    constant, makes it exact."""
    bound = order.bound
    return (
        f"{value} <= {bound} AND ({value}, {source}, {item_id})"
        f" < ({bound}, after_source, after_item_id)"
    )


def _visible(alias: str) -> str:
    """Public items, and the viewer's own (with no viewer the test folds to the first)."""
    return f"(NOT {alias}.is_private OR (viewer IS NOT NULL AND {alias}.creator_id = viewer))"


def _not_excluded(source: int, created_at: str, item_id: str) -> str:
    """Probes look links up by their whole key in the unique ix_content_tags_newest (the
    item's created_at completes it), as `conditions.excluded` does."""
    return (
        "(cardinality(exclude_keys) = 0 OR NOT EXISTS (SELECT 1 FROM public.content_tags x"
        f" WHERE x.tag_key = ANY (exclude_keys) AND x.source = {source}"
        f" AND x.created_at = {created_at} AND x.item_id = {item_id} OFFSET 0))"
    )


def _items_walk(order: _Order, source: int, table: str, condition: str = "") -> str:
    """The item table's sort index: without tags, or testing each row's tag array."""
    column = f"i.{order.column}"
    return (
        f"(SELECT {source}::smallint AS source, i.id, {column} AS sort_value"
        f" FROM public.{table} i WHERE {_visible('i')}"
        f" AND {_not_excluded(source, 'i.created_at', 'i.id')}"
        f" AND {_after(order, column, source, 'i.id')}{condition}"
        f" ORDER BY {column} DESC, i.id DESC LIMIT page_size)"
    )


def _bitmap(order: _Order, source: int, table: str, test: str, when: str) -> str:
    """Every visible item passing `test` on its tag array (the GIN index), sorted; the
    first rows past the bound. OFFSET 0 fences the matching set (`sql._bitmap_branch`)."""
    column = order.column
    return (
        f"(SELECT {source}::smallint AS source, m.id, m.{column} AS sort_value FROM"
        f" (SELECT i.id, i.{column} FROM public.{table} i WHERE i.tags {test} tag_uuids"
        f" AND {_visible('i')} AND {_not_excluded(source, 'i.created_at', 'i.id')}"
        f" OFFSET 0) m WHERE {when} AND {_after(order, f'm.{column}', source, 'm.id')}"
        f" ORDER BY m.{column} DESC, m.id DESC LIMIT page_size)"
    )


def _postings(source: int, table: str, tag: str) -> str:
    """One tag's postings along the junction's (tag_key, source, created_at DESC,
    item_id DESC) index, with the item's visibility and exclusions checked."""
    return (
        f"SELECT {source}::smallint AS source, p.item_id AS id, p.created_at AS sort_value"
        f" FROM public.content_tags p JOIN public.{table} i ON i.id = p.item_id"
        f" WHERE p.tag_key = {tag} AND p.source = {source}"
        f" AND {_after(NEWEST, 'p.created_at', source, 'p.item_id')}"
        f" AND {_not_excluded(source, 'p.created_at', 'p.item_id')} AND {_visible('i')}"
        " ORDER BY p.created_at DESC, p.item_id DESC LIMIT page_size"
    )


def _any_walk(source: int, table: str) -> str:
    """ANY by date, as `plan._branch` picks per source: for common tags, one walk of the
    item table testing the tag array; otherwise one limited walk per wanted tag (an item
    in the page's top n is in its own tag's top n)."""
    overlap = f" AND walk_{source} AND i.tags && tag_uuids"
    walk = _postings(source, table, "t.tag_key")
    return (
        f"{_items_walk(NEWEST, source, table, overlap)}{_MERGED}(SELECT w.* FROM unnest(wanted)"
        f" AS t(tag_key) CROSS JOIN LATERAL ({walk}) w WHERE NOT walk_{source})"
    )


def _walked_or_bitmap(order: _Order, source: int, table: str, walked: str) -> str:
    """A capped walk (the CTE `walked`): its rows when they fill the page or the walk was
    not capped, else the bitmap's (`sql._walked_or_bitmap`)."""
    filled = f"(cap_{source} IS NULL OR (SELECT count(*) FROM {walked}) >= page_size)"
    bitmap = _bitmap(order, source, table, "@>", f"NOT {filled}")
    return f"(SELECT * FROM {walked} WHERE {filled}){_MERGED}{bitmap}"


def _all_walk_cte(source: int, table: str) -> str:
    """ALL by date: at most `cap_n` postings of the rarest tag, probing the others."""
    carried = (
        f"(SELECT count(*) FROM public.content_tags r WHERE r.tag_key = ANY (others_{source})"
        f" AND r.source = {source} AND r.created_at = p.created_at"
        f" AND r.item_id + 0 = p.item_id) = cardinality(others_{source})"
    )
    after = _after(NEWEST, "p.created_at", source, "p.item_id")
    return (
        f"walked_{source} AS (SELECT {source}::smallint AS source, p.item_id AS id,"
        " p.created_at AS sort_value FROM (SELECT p.item_id, p.created_at"
        f" FROM public.content_tags p WHERE p.tag_key = driver_{source} AND p.source = {source}"
        f" AND {after} ORDER BY p.created_at DESC, p.item_id DESC LIMIT cap_{source}) p"
        f" JOIN public.{table} i ON i.id = p.item_id WHERE {carried}"
        f" AND {_not_excluded(source, 'p.created_at', 'p.item_id')} AND {_visible('i')}"
        " ORDER BY p.created_at DESC, p.item_id DESC LIMIT page_size)"
    )


def _rated_walk_cte(source: int, table: str) -> str:
    """ALL by rating: at most `cap_n` rows of the quality index, testing the tag array."""
    after = _after(TOP_RATED, "i.quality_score", source, "i.id")
    return (
        f"walked_{source} AS (SELECT {source}::smallint AS source, s.id,"
        " s.quality_score AS sort_value FROM (SELECT i.id, i.created_at, i.tags,"
        f" i.quality_score FROM public.{table} i WHERE {_visible('i')}"
        f" AND {after} ORDER BY i.quality_score DESC, i.id DESC LIMIT cap_{source}) s"
        f" WHERE s.tags @> tag_uuids AND {_not_excluded(source, 's.created_at', 's.id')}"
        " ORDER BY s.quality_score DESC, s.id DESC LIMIT page_size)"
    )


def _rated_any(source: int, table: str) -> str:
    """ANY (or one tag) by rating: the quality index testing the tag array when expected
    to fill within `RATED_WALK_MAX_ROWS`, else the bitmap."""
    walk = _items_walk(TOP_RATED, source, table, f" AND walk_{source} AND i.tags && tag_uuids")
    return f"{walk}{_MERGED}{_bitmap(TOP_RATED, source, table, '&&', f'NOT walk_{source}')}"


def _rated_all(source: int, table: str) -> str:
    """ALL by rating: the capped quality walk, else the bitmap (a cap of 0 where the
    walk is not expected to fill the page sends it straight to the bitmap)."""
    return _walked_or_bitmap(TOP_RATED, source, table, f"walked_{source}")


def _page(walk: str, *, distinct: bool = False, ctes: str = "") -> str:
    """The merged branches in page order, joined to the grid's columns."""
    keys = "DISTINCT source, id, sort_value" if distinct else "source, id, sort_value"
    lookups = " UNION ALL ".join(
        "SELECT title, path_thumb, quality_score, created_at, creator_id"
        f" FROM public.{table.name} WHERE k.source = {source} AND id = k.id"
        for source, table in CONTENT_TABLES.items()
    )
    with_ctes = f"WITH {ctes}\n      " if ctes else ""
    return f"""RETURN QUERY
      {with_ctes}SELECT k.source, k.id, i.title, i.path_thumb, i.quality_score, i.created_at,
             i.creator_id
      FROM (SELECT {keys} FROM (
        {walk}) u
        ORDER BY sort_value DESC, source DESC, id DESC LIMIT page_size) k
      CROSS JOIN LATERAL ({lookups}) i
      ORDER BY k.sort_value DESC, k.source DESC, k.id DESC;"""


def _walks(walk_of: Callable[[int, str], str]) -> str:
    return _MERGED.join(walk_of(source, table.name) for source, table in CONTENT_TABLES.items())


def _ctes(cte_of: Callable[[int, str], str]) -> str:
    return ",\n      ".join(cte_of(source, table.name) for source, table in CONTENT_TABLES.items())


def _count(source: int, aggregate: str) -> str:
    return (
        f"(SELECT {aggregate}(coalesce(c.items, 0)) FROM unnest(tag_set) AS k"
        f" LEFT JOIN public.tag_counts c ON c.tag_key = k AND c.source = {source})"
    )


def _size(table: str) -> str:
    return f"nullif((SELECT reltuples FROM pg_class WHERE oid = 'public.{table}'::regclass), -1)"


def _rows_to_fill_within(source: int, table: str, aggregate: str, rows: int) -> str:
    """`plan_costs.rows_to_fill` (`max`: ANY) or `rated_rows_to_fill` (`min`: ALL) within `rows`
    (page_size + 1 rows, as our walks fetch); false when unknown."""
    common = f"nullif({_count(source, aggregate)}, 0)"
    return f"coalesce((page_size + 1) * {_size(table)} / {common} <= {rows}, false)"


def _all_plan() -> str:
    """Each source's rarest tag by the exact counts, ties to the lower key (`plan_costs.rarest`),
    the tags left to probe, and the walk's cap (`plan_rules.all_walk_cap`)."""
    lines = []
    for source in CONTENT_TABLES:
        entries = f"{_count(source, 'sum')} * {GIN_US_PER_ENTRY} / ({PROBE_US} * n_tags)"
        lines += [
            f"driver_{source} := (SELECT k FROM unnest(tag_set) AS k LEFT JOIN public.tag_counts"
            f" c ON c.tag_key = k AND c.source = {source} ORDER BY coalesce(c.items, 0), k"
            " LIMIT 1);",
            f"others_{source} := array_remove(tag_set, driver_{source});",
            f"cap_{source} := greatest({ALL_WALK_MIN_CAP}, floor({entries}))::int;",
            f"IF cap_{source} >= {_count(source, 'min')} THEN cap_{source} := NULL; END IF;",
        ]
    return "\n    ".join(lines)


def _rated_plan(aggregate: str) -> str:
    return "\n      ".join(
        f"walk_{source} :="
        f" {_rows_to_fill_within(source, table.name, aggregate, RATED_WALK_MAX_ROWS)};"
        f" cap_{source} := CASE WHEN walk_{source} THEN {RATED_ALL_WALK_CAP} ELSE 0 END;"
        for source, table in CONTENT_TABLES.items()
    )


def _overlap_plan() -> str:
    return "\n    ".join(
        f"walk_{source} := cardinality(tag_set) > 1 AND"
        f" {_rows_to_fill_within(source, table.name, 'max', OVERLAP_WALK_MAX_ROWS)};"
        for source, table in CONTENT_TABLES.items()
    )


def _body() -> str:
    declarations = "\n  ".join(
        f"driver_{s} int;\n  others_{s} int[];\n  cap_{s} int;\n  walk_{s} boolean;"
        for s in CONTENT_TABLES
    )
    return f"""
DECLARE
  viewer uuid := nullif(current_setting('jwt.claims.{VIEWER_CLAIM}', true), '')::uuid;
  tag_set int[] := ARRAY(SELECT DISTINCT k FROM unnest(tag_keys) AS k ORDER BY k);
  n_tags int := cardinality(tag_set);
  wanted int[] := ARRAY(SELECT k FROM unnest(tag_set) AS k WHERE k <> ALL (exclude_keys));
  tag_uuids uuid[] := ARRAY(SELECT g.id FROM public.tags g WHERE g.tag_key = ANY (tag_set));
  bound_at timestamptz := coalesce(after_created_at, 'infinity');
  bound_q double precision := coalesce(after_quality, 'infinity');
  {declarations}
BEGIN
  PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
  IF match_all AND tag_set && exclude_keys THEN
    RETURN;
  END IF;
  IF n_tags = 0 THEN
    IF top_rated THEN
      {_page(_walks(lambda s, t: _items_walk(TOP_RATED, s, t)))}
    ELSE
      {_page(_walks(lambda s, t: _items_walk(NEWEST, s, t)))}
    END IF;
  ELSIF top_rated AND match_all AND n_tags > 1 THEN
    {_rated_plan("min")}
    {_page(_walks(_rated_all), ctes=_ctes(_rated_walk_cte))}
  ELSIF top_rated THEN
    {_rated_plan("max")}
    {_page(_walks(_rated_any))}
  ELSIF match_all AND n_tags > 1 THEN
    {_all_plan()}
    {_page(_walks(_all_walk_either), ctes=_ctes(_all_walk_cte))}
  ELSE
    {_overlap_plan()}
    {_page(_walks(_any_walk), distinct=True)}
  END IF;
END
"""


def _all_walk_either(source: int, table: str) -> str:
    return _walked_or_bitmap(NEWEST, source, table, f"walked_{source}")


def install_statements() -> list[str]:
    return [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"DROP FUNCTION IF EXISTS {FUNCTION}",
        f"DROP TYPE IF EXISTS {ITEM_TYPE}",
        f"""CREATE TYPE {ITEM_TYPE} AS (source smallint, id integer, title varchar(255),
  path_thumb text, quality_score double precision, created_at timestamptz, creator_id uuid)""",
        f"""CREATE FUNCTION {FUNCTION}(
  tag_keys int[] DEFAULT '{{}}', match_all boolean DEFAULT false,
  exclude_keys int[] DEFAULT '{{}}', page_size integer DEFAULT 25,
  top_rated boolean DEFAULT false, after_created_at timestamptz DEFAULT NULL,
  after_quality double precision DEFAULT NULL, after_source integer DEFAULT NULL,
  after_item_id integer DEFAULT NULL)
RETURNS SETOF {ITEM_TYPE} LANGUAGE plpgsql STABLE AS $fn${_body()}$fn$""",
    ]


async def install(conn: AsyncConnection) -> None:
    """(Re)create the schema, type and function; idempotent."""
    for statement in install_statements():
        await conn.exec_driver_sql(statement)
