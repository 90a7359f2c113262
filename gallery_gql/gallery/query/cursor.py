"""Opaque, versioned, signed keyset cursors bound to the filter and sort they came from.

Layout: base64url( JSON [version, filter digest, sort, value, source, id] || HMAC-SHA256[:16] ).
Timestamps travel as integer microseconds since the epoch so they round-trip exactly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import orjson

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Position, Sort

VERSION = 1
MAX_CURSOR_LENGTH = 512
_MAC_SIZE = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CursorError(ValueError):
    """A cursor that is malformed, tampered with, or from another query."""


@dataclass(frozen=True)
class Cursor:
    digest: str
    sort: Sort
    position: Position


@cache
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"gallery-gql cursor\x00" + secret.encode()).digest()


def _mac(secret: str, payload: bytes) -> bytes:
    # hmac.digest: the one-shot C path (a page signs one cursor per edge).
    return hmac.digest(_key(secret), payload, "sha256")[:_MAC_SIZE]


def _encode_value(sort: Sort, value: datetime | float) -> int | float:
    if sort.column == "created_at":
        assert isinstance(value, datetime)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    assert isinstance(value, float)
    return value


def _decode_value(sort: Sort, raw: object) -> datetime | float:
    if sort.column == "created_at":
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise CursorError("malformed cursor")
        try:
            return _EPOCH + timedelta(microseconds=raw)
        except OverflowError as exc:
            raise CursorError("malformed cursor") from exc
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        raise CursorError("malformed cursor")
    return float(raw)


def encode_cursor(cursor: Cursor, secret: str) -> str:
    pos = cursor.position
    payload = orjson.dumps(
        [
            VERSION,
            cursor.digest,
            cursor.sort.value,
            _encode_value(cursor.sort, pos.value),
            int(pos.source),
            pos.id,
        ]
    )
    return cursor_token(payload + _mac(secret, payload))


def cursor_token(raw: bytes) -> str:
    """`raw` spelled as a cursor: unpadded base64url, the inverse of `cursor_bytes`."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def cursor_bytes(token: str, max_length: int) -> bytes:
    """The bytes a cursor spells. CursorError unless `token` is 1 to `max_length` characters
    of canonical unpadded base64url: one spelling per cursor, no other alphabet or padding.
    Needs no secret, so it also serves as the API's structural check of any cursor."""
    if not token or len(token) > max_length:
        raise CursorError("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CursorError("malformed cursor") from exc
    if cursor_token(raw) != token:
        raise CursorError("malformed cursor")
    return raw


def decode_cursor(token: str, secret: str) -> Cursor:
    """Parse and authenticate a cursor; any defect raises CursorError with a safe message."""
    raw = cursor_bytes(token, MAX_CURSOR_LENGTH)
    payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
    if len(raw) <= _MAC_SIZE or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise CursorError("cursor signature is invalid")
    try:
        version, digest, sort_name, value, source, item_id = orjson.loads(payload)
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise CursorError("malformed cursor") from exc
    if version != VERSION:
        raise CursorError(f"unsupported cursor version {version!r}")
    try:
        sort = Sort(sort_name)
        src = Source(source)
    except ValueError as exc:
        raise CursorError("malformed cursor") from exc
    if not isinstance(digest, str) or not isinstance(item_id, int):
        raise CursorError("malformed cursor")
    return Cursor(digest, sort, Position(_decode_value(sort, value), src, item_id))


def check_cursor(cursor: Cursor, digest: str, sort: Sort) -> Position:
    """The cursor's position, if it was issued for this very filter and sort."""
    if cursor.sort is not sort or cursor.digest != digest:
        raise CursorError("cursor was issued for a different filter or sort")
    return cursor.position
