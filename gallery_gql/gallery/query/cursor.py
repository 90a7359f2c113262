"""Opaque, versioned, sealed keyset cursors, bound to the filter and sort they came from
and to the viewer they were issued to.

Layout: base64url( version || AES-SIV(key, payload, associated data: version, viewer) ),
payload = sort (1 byte) || source (1) || sort value (8) || item id (8) || filter digest.
Timestamps travel as integer microseconds since the epoch, ratings as IEEE doubles, so
both round-trip exactly.

Sealed, not only signed: a cursor names an item's creation time or rating and its id, and
a cursor at a private item must not tell anyone else either. AES-SIV (RFC 5297, from
`cryptography`) is deterministic: no nonce to draw per cursor nor to wear out (random
96-bit GCM nonces are good for ~2^32 messages per key; a busy gateway issues that many
cursors in days), and the same position gives the same cursor. The viewer is associated
data, so a cursor opens only for the viewer it was issued to, without growing it.
"""

from __future__ import annotations

import base64
import binascii
import struct
from binascii import b2a_base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Position, Sort

VERSION = 2
MAX_CURSOR_LENGTH = 512
_VERSION_BYTE = bytes([VERSION])
_SIV_SIZE = 16
_SORTS = (Sort.NEWEST, Sort.OLDEST, Sort.TOP_RATED, Sort.LOWEST_RATED)
_SORT_INDEX = {sort: index for index, sort in enumerate(_SORTS)}
_AT_TIME = struct.Struct(">BBqq")  # sort, source, microseconds since the epoch, id
_AT_RATING = struct.Struct(">BBdq")  # sort, source, rating, id
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ANONYMOUS = b""
_URLSAFE = bytes.maketrans(b"+/", b"-_")
"""base64 to base64url (`base64.urlsafe_b64encode`, without its two calls a cursor)."""


class CursorError(ValueError):
    """A cursor that is malformed, tampered with, or from another query or viewer."""


@dataclass(frozen=True)
class Cursor:
    digest: str
    sort: Sort
    position: Position


@cache
def _cipher(secret: str) -> AESSIV:
    """AES-256-SIV under a key derived from the deployment's secret for cursors alone."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=None, info=b"gallery-gql cursor v2"
    ).derive(secret.encode())
    return AESSIV(key)


def _associated(viewer: UUID | None) -> list[bytes]:
    return [_VERSION_BYTE, viewer.bytes if viewer is not None else _ANONYMOUS]


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_cursor(cursor: Cursor, secret: str, *, viewer: UUID | None) -> str:
    """The cursor sealed for `viewer` (None: anonymous)."""
    (token,) = encode_cursors(cursor.digest, cursor.sort, [cursor.position], secret, viewer=viewer)
    return token


def encode_cursors(
    digest: str, sort: Sort, positions: Sequence[Position], secret: str, *, viewer: UUID | None
) -> list[str]:
    """`encode_cursor` of each position of one page (same filter, sort and viewer), with
    what they share worked out once."""
    seal = _cipher(secret).encrypt
    associated = _associated(viewer)
    suffix = digest.encode()
    index = _SORT_INDEX[sort]
    by_time = sort.column == "created_at"
    tokens = []
    for pos in positions:
        if by_time:
            assert isinstance(pos.value, datetime)
            fixed = _AT_TIME.pack(index, pos.source, _micros(pos.value), pos.id)
        else:
            assert isinstance(pos.value, float)
            fixed = _AT_RATING.pack(index, pos.source, pos.value, pos.id)
        tokens.append(cursor_token(_VERSION_BYTE + seal(fixed + suffix, associated)))
    return tokens


def cursor_token(raw: bytes) -> str:
    """`raw` spelled as a cursor: unpadded base64url, the inverse of `cursor_bytes`."""
    return b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


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


def decode_cursor(token: str, secret: str, *, viewer: UUID | None) -> Cursor:
    """Parse and open a cursor issued to `viewer`; any defect raises CursorError with a
    safe message (which never says more than the client already knows)."""
    raw = cursor_bytes(token, MAX_CURSOR_LENGTH)
    if raw[:1] != _VERSION_BYTE:
        raise CursorError("unsupported cursor version: start again from the first page")
    if len(raw) < 1 + _SIV_SIZE + _AT_TIME.size:
        raise CursorError("malformed cursor")
    try:
        payload = _cipher(secret).decrypt(raw[1:], _associated(viewer))
    except InvalidTag as exc:
        raise CursorError("cursor is invalid, or was issued to another viewer") from exc
    return _parse(payload)


def _parse(payload: bytes) -> Cursor:
    """A payload we sealed: malformed only if the code that sealed it differed."""
    sort_index = payload[0]
    if sort_index >= len(_SORTS) or payload[1] > max(Source):
        raise CursorError("malformed cursor")
    sort = _SORTS[sort_index]
    try:
        digest = payload[_AT_TIME.size :].decode()
        if sort.column == "created_at":
            _, source, micros, item_id = _AT_TIME.unpack_from(payload)
            value: datetime | float = _EPOCH + timedelta(microseconds=micros)
        else:
            _, source, value, item_id = _AT_RATING.unpack_from(payload)
    except (UnicodeDecodeError, OverflowError, struct.error) as exc:
        raise CursorError("malformed cursor") from exc
    return Cursor(digest, sort, Position(value, Source(source), item_id))


def check_cursor(cursor: Cursor, digest: str, sort: Sort) -> Position:
    """The cursor's position, if it was issued for this very filter and sort."""
    if cursor.sort is not sort or cursor.digest != digest:
        raise CursorError("cursor was issued for a different filter or sort")
    return cursor.position
