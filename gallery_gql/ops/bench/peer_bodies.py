"""What the benchmark asks PostGraphile, two ways, and how it reads the answers.

The generic form is what a PostGraphile user writes: each source's connection with
connection-filter's `contains`/`overlaps` on the `tags` array, ordered by the table's
sort index, paged by PostGraphile's own cursors. A connection reads one table, so one
request asks for both sources' connections and the client merges them (both are in the
page's order, so the page is the merge's first `size`); the next page continues each
source after the last of its rows the page used. A signed-in viewer's own private items
are asked for by an `or` on the creator (no row-level security on the gallery's tables).

The function form calls `peer.gallery_page` (peer_sql.py), paged by the last row's
sort value, source and id; the viewer comes from the JWT PostGraphile verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Sort, TagMatch
from gallery_gql.ops.bench.classes import QueryClass
from gallery_gql.ops.bench.peer_sql import VIEWER_CLAIM

_FIELDS = "id title pathThumb qualityScore createdAt"
_ORDER = {
    Sort.NEWEST: "[CREATED_AT_DESC, ID_DESC]",
    Sort.TOP_RATED: "[QUALITY_SCORE_DESC, ID_DESC]",
}
_GENERIC = """query PeerGeneric($first: Int!, $regular: ContentItemFilter!,
  $auto: ContentItemsAutoFilter!, $regularAfter: Cursor, $autoAfter: Cursor) {
  regular: allContentItems(first: $first, after: $regularAfter, orderBy: %(order)s,
                           filter: $regular) { edges { cursor node { %(fields)s } } }
  auto: allContentItemsAutos(first: $first, after: $autoAfter, orderBy: %(order)s,
                             filter: $auto) { edges { cursor node { %(fields)s } } }
}"""
FUNCTION_DOCUMENT = f"""query PeerFunction($tagKeys: [Int], $matchAll: Boolean,
  $excludeKeys: [Int], $pageSize: Int, $topRated: Boolean, $afterCreatedAt: Datetime,
  $afterQuality: Float, $afterSource: Int, $afterItemId: Int) {{
  galleryPageList(tagKeys: $tagKeys, matchAll: $matchAll, excludeKeys: $excludeKeys,
                  pageSize: $pageSize, topRated: $topRated, afterCreatedAt: $afterCreatedAt,
                  afterQuality: $afterQuality, afterSource: $afterSource,
                  afterItemId: $afterItemId) {{ source {_FIELDS} }}
}}"""
_FIELD_OF = {Source.REGULAR: "regular", Source.AUTO: "auto"}
JWT_AUDIENCE = "postgraphile"  # what PostGraphile 4 verifies by default

Page = list[tuple[Source, int]]


def generic_document(sort: Sort) -> str:
    return _GENERIC % {"order": _ORDER[sort], "fields": _FIELDS}


def peer_token(viewer: str, secret: str, ttl_seconds: int = 3600) -> str:
    """A JWT PostGraphile (`--jwt-secret`) accepts, naming the viewer in its claims."""
    now = int(datetime.now().timestamp())
    claims = {VIEWER_CLAIM: viewer, "aud": JWT_AUDIENCE, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


def generic_body(
    query: QueryClass, tag_ids: dict[int, str], viewer: str | None = None
) -> dict[str, Any]:
    """The first page's request in the generic form."""
    condition: dict[str, Any] = {"isPrivate": {"equalTo": False}}
    if viewer is not None:
        condition = {"or": [condition, {"creatorId": {"equalTo": viewer}}]}
    if query.tags:
        operator = "contains" if query.match is TagMatch.ALL else "overlaps"
        condition["tags"] = {operator: [tag_ids[key] for key in query.tags]}
    if query.exclude:
        condition["not"] = {"tags": {"overlaps": [tag_ids[key] for key in query.exclude]}}
    return {
        "query": generic_document(query.sort),
        "variables": {"first": query.size, "regular": condition, "auto": condition},
    }


def function_body(query: QueryClass) -> dict[str, Any]:
    """The first page's request in the function form."""
    return {
        "query": FUNCTION_DOCUMENT,
        "variables": {
            "tagKeys": list(query.tags),
            "matchAll": query.match is TagMatch.ALL,
            "excludeKeys": list(query.exclude),
            "pageSize": query.size,
            "topRated": query.sort is Sort.TOP_RATED,
        },
    }


@dataclass(frozen=True)
class _Row:
    value: Any  # the sort value
    source: Source
    id: int
    cursor: str = field(compare=False)


def _sort_value(node: dict[str, Any], sort: Sort) -> Any:
    if sort is Sort.TOP_RATED:
        return float(node["qualityScore"])
    return datetime.fromisoformat(node["createdAt"])


def _merged(payload: dict[str, Any], sort: Sort, size: int) -> list[_Row]:
    rows = [
        _Row(_sort_value(edge["node"], sort), source, int(edge["node"]["id"]), edge["cursor"])
        for source, name in _FIELD_OF.items()
        for edge in payload["data"][name]["edges"]
    ]
    rows.sort(key=lambda row: (row.value, row.source, row.id), reverse=True)
    return rows[:size]


def generic_page(payload: dict[str, Any], sort: Sort, size: int) -> Page:
    """The two sources' connections merged in page order, ties on (source, id)."""
    return [(row.source, row.id) for row in _merged(payload, sort, size)]


def generic_next(
    body: dict[str, Any], payload: dict[str, Any], sort: Sort, size: int
) -> dict[str, Any]:
    """The request for the page after `payload`'s: each source after the last of its rows
    the merged page used (where it used none, where it was)."""
    variables = dict(body["variables"])
    for row in _merged(payload, sort, size):
        variables[f"{_FIELD_OF[row.source]}After"] = row.cursor
    return {**body, "variables": variables}


def function_page(payload: dict[str, Any]) -> Page:
    return [(Source(row["source"]), int(row["id"])) for row in payload["data"]["galleryPageList"]]


def function_next(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The request for the page after `payload`'s: after its last row."""
    rows = payload["data"]["galleryPageList"]
    if not rows:
        return body
    last = rows[-1]
    after = {
        "afterCreatedAt": last["createdAt"],
        "afterQuality": last["qualityScore"],
        "afterSource": last["source"],
        "afterItemId": int(last["id"]),
    }
    return {**body, "variables": {**body["variables"], **after}}
