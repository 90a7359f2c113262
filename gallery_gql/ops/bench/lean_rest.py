"""A lean REST endpoint the benchmark measures ours against: what a team would build
instead of a GraphQL gateway (never shipped as a feature; `lean.py` serves it on
loopback).

A raw ASGI app, one asyncpg pool, one statement: Genonaut's tag-array query (the
`tags @>`/`&&` test inside each source's `UNION ALL` branch, left to the planner and its
GIN index, ops/bench/baselines.py), with the grid's columns, orjson out. The pool's
sessions get our connections' settings (JIT off, custom plans, the statement timeout).

    GET /items?tags=<uuid>,<uuid>&match=all|any&exclude=<uuid>&sort=newest|top_rated&first=25
    → {"items": [{"source", "id", "title", "thumbnail", "createdAt", "qualityScore"}, ...]}

Bad input answers 400 with {"error": ...}; a statement past the timeout 504, any other
failure 500, with no driver text.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
import orjson

DATABASE_URL_ENV = "GALLERY_GQL_LEAN_DATABASE_URL"
STATEMENT_TIMEOUT_ENV = "GALLERY_GQL_LEAN_STATEMENT_TIMEOUT_MS"
MAX_TAGS = 20
MAX_FIRST = 100
POOL_SIZE = 10

_ORDER = {"newest": "created_at", "top_rated": "quality_score"}
_TABLES = (("0", "content_items"), ("1", "content_items_auto"))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BadRequestError(ValueError):
    pass


def statement(match_all: bool, tags: bool, exclude: bool, sort: str) -> str:
    """The tag-array query as Genonaut ran it, for a first page; its parameters are the
    tags (when `tags`), the excluded tags (when `exclude`), then the page size."""
    conditions, n = ["NOT is_private"], 0
    if tags:
        n += 1
        conditions.append(f"tags {'@>' if match_all else '&&'} ${n}::uuid[]")
    if exclude:
        n += 1
        conditions.append(f"NOT tags && ${n}::uuid[]")
    where = " AND ".join(conditions)
    branches = " UNION ALL ".join(
        f"SELECT {source} AS source, id, title, path_thumb, created_at, quality_score"
        f" FROM {table} WHERE {where}"
        for source, table in _TABLES
    )
    return (
        f"SELECT source, id, title, path_thumb, created_at, quality_score FROM ({branches}) u"
        f" ORDER BY {_ORDER[sort]} DESC, source DESC, id DESC LIMIT ${n + 1}"
    )


def _uuids(values: list[str]) -> list[UUID]:
    found = [part for value in values for part in value.split(",") if part]
    if len(found) > MAX_TAGS:
        raise BadRequestError(f"at most {MAX_TAGS} tags")
    try:
        return [UUID(value) for value in found]
    except ValueError:
        raise BadRequestError("tags must be UUIDs") from None


def parse(query_string: bytes) -> tuple[str, list[Any]]:
    """The statement and its arguments for a request's query string."""
    if len(query_string) > 4096:
        raise BadRequestError("query string too long")
    args = parse_qs(query_string.decode("latin-1"))
    tags, exclude = _uuids(args.get("tags", [])), _uuids(args.get("exclude", []))
    match = args.get("match", ["any"])[0]
    sort = args.get("sort", ["newest"])[0]
    if match not in ("any", "all") or sort not in _ORDER:
        raise BadRequestError("match: any|all; sort: newest|top_rated")
    try:
        first = int(args.get("first", ["25"])[0])
    except ValueError:
        raise BadRequestError("first must be an integer") from None
    if not 1 <= first <= MAX_FIRST:
        raise BadRequestError(f"first must be 1..{MAX_FIRST}")
    sql = statement(match == "all", bool(tags), bool(exclude), sort)
    return sql, [values for values in (tags, exclude) if values] + [first]


def _item(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "source": row["source"],
        "id": row["id"],
        "title": row["title"],
        "thumbnail": row["path_thumb"],
        "createdAt": row["created_at"],
        "qualityScore": row["quality_score"],
    }


class LeanRest:
    """The ASGI app: /items as above, /readyz, 404 for anything else."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None

    async def _startup(self) -> None:
        timeout = os.environ.get(STATEMENT_TIMEOUT_ENV, "3000")
        self.pool = await asyncpg.create_pool(
            os.environ[DATABASE_URL_ENV],
            min_size=1,
            max_size=POOL_SIZE,
            server_settings={
                "jit": "off",
                "plan_cache_mode": "force_custom_plan",
                "statement_timeout": timeout,
                "default_transaction_read_only": "on",
                "application_name": "gallery-gql-lean-rest",
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await self._startup()
                    await send({"type": "lifespan.startup.complete"})
            if self.pool is not None:
                await self.pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        status, body = await self._answer(scope)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope) -> tuple[int, bytes]:
        if scope["path"] == "/readyz":
            return 200, b'{"ready":true}'
        if scope["path"] != "/items" or scope["method"] != "GET":
            return 404, b'{"error":"not found"}'
        try:
            sql, args = parse(scope["query_string"])
        except BadRequestError as exc:
            return 400, orjson.dumps({"error": str(exc)})
        assert self.pool is not None
        try:
            rows = await self.pool.fetch(sql, *args)
        except asyncpg.QueryCanceledError:
            return 504, b'{"error":"the statement timed out"}'
        except (asyncpg.PostgresError, OSError):
            return 500, b'{"error":"the page could not be read"}'
        return 200, orjson.dumps({"items": [_item(row) for row in rows]})


app = LeanRest()
