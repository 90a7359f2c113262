"""Tag-name search: tags whose name contains a text, prefix matches first, paged by
opaque cursors over (rank, name)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, case, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.tables import tags
from gallery_gql.gallery.lookups import tag_record
from gallery_gql.gallery.query.cursor import CursorError, cursor_bytes, cursor_token
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_tree import MAX_NAME_LENGTH

MAX_SEARCH_LENGTH = 100
# The longest cursor: base64 of [rank,"name"] with each character of the longest name
# JSON-escaped to its longest form, six bytes (\uXXXX).
MAX_TAG_CURSOR_LENGTH = math.ceil((len(b'[1,""]') + 6 * MAX_NAME_LENGTH) * 4 / 3)

PREFIX_RANK = 0
"""Rank of names starting with the search text (and of every name when not searching)."""
SUBSTRING_RANK = 1
"""Rank of names containing the search text elsewhere."""


@dataclass(frozen=True, slots=True)
class TagPosition:
    """A tag's place in the search order: (rank, name); names are unique, so it is total."""

    rank: int
    name: str


@dataclass(frozen=True, slots=True)
class TagSearchPage:
    hits: list[tuple[TagPosition, TagRecord]]
    has_next: bool


class TagCursorError(CursorError):
    """A tag-search cursor that is not one we issued."""


def like_escape(text: str) -> str:
    """`text` with LIKE's metacharacters (and the escape character) made literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _rank(search: str | None) -> ColumnElement[int]:
    if not search:
        return literal(PREFIX_RANK, Integer)
    prefix = tags.c.name.ilike(like_escape(search) + "%", escape="\\")
    return case((prefix, PREFIX_RANK), else_=SUBSTRING_RANK)


def _search_stmt(search: str | None, after: TagPosition | None, limit: int) -> Select[Any]:
    ranked = select(_rank(search).label("rank"), *tags.c)
    if search:
        ranked = ranked.where(tags.c.name.ilike("%" + like_escape(search) + "%", escape="\\"))
    sub = ranked.subquery("ranked")
    stmt = select(*sub.c).order_by(sub.c.rank, sub.c.name).limit(limit)
    if after is not None:
        stmt = stmt.where(tuple_(sub.c.rank, sub.c.name) > tuple_(after.rank, after.name))
    return stmt


async def search_tags(
    conn: AsyncConnection, search: str | None, after: TagPosition | None, first: int
) -> TagSearchPage:
    """Up to `first` tags whose name contains `search` (case-insensitive, literal), prefix
    matches first, then by name, strictly after `after`; every tag when `search` is empty."""
    rows = list(await conn.execute(_search_stmt(search, after, first + 1)))
    hits = [(TagPosition(row.rank, row.name), tag_record(row)) for row in rows[:first]]
    return TagSearchPage(hits=hits, has_next=len(rows) > first)


def encode_tag_cursor(position: TagPosition) -> str:
    return cursor_token(orjson.dumps([position.rank, position.name]))


def decode_tag_cursor(token: str) -> TagPosition:
    """The position a cursor from `encode_tag_cursor` names; TagCursorError for anything else."""
    try:
        value = orjson.loads(cursor_bytes(token, MAX_TAG_CURSOR_LENGTH))
    except ValueError as exc:  # CursorError and orjson.JSONDecodeError are ValueErrors
        raise TagCursorError("malformed cursor") from exc
    position = _position(value)
    if encode_tag_cursor(position) != token:  # only the canonical encoding is accepted
        raise TagCursorError("malformed cursor")
    return position


def _position(value: object) -> TagPosition:
    if not isinstance(value, list) or len(value) != 2:
        raise TagCursorError("malformed cursor")
    rank, name = value
    if type(rank) is not int or rank not in (PREFIX_RANK, SUBSTRING_RANK):
        raise TagCursorError("malformed cursor")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH or "\x00" in name:
        raise TagCursorError("malformed cursor")
    return TagPosition(rank, name)
