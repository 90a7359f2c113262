"""Keyset cursors: exact round trips, sealed payloads, binding to the viewer and to a filter
digest (`tests/gallery/query/test_filters.py` checks the digest itself), and every kind of
defect rejected as CursorError. No database needed.
"""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.cursor import (
    _AT_RATING,
    _AT_TIME,
    VERSION,
    Cursor,
    CursorError,
    _cipher,
    check_cursor,
    cursor_token,
    decode_cursor,
    encode_cursor,
)
from gallery_gql.gallery.query.filters import ContentFilter, Position, Sort

SECRET = "cursor-test-secret-" + "y" * 24
DIGEST = ContentFilter(tag_keys=(3, 1)).digest(Sort.NEWEST)
URLSAFE = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
WHEN = datetime(2025, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _cursor(
    sort: Sort, value: datetime | float, source: Source = Source.AUTO, item: int = 42
) -> Cursor:
    return Cursor(DIGEST, sort, Position(value, source, item))


def _round_trip(cursor: Cursor, secret: str = SECRET, viewer: UUID | None = None) -> Cursor:
    return decode_cursor(encode_cursor(cursor, secret, viewer=viewer), secret, viewer=viewer)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _sealed(
    payload: bytes, secret: str = SECRET, version: int = VERSION, viewer: UUID | None = None
) -> str:
    """A correctly sealed token around any payload, under any version byte."""
    head = bytes([version])
    associated = [head, viewer.bytes if viewer else b""]
    return cursor_token(head + _cipher(secret).encrypt(payload, associated))


def _rejected(token: str, secret: str = SECRET, viewer: UUID | None = None) -> str:
    with pytest.raises(CursorError) as caught:
        decode_cursor(token, secret, viewer=viewer)
    return str(caught.value)


INVALID = "cursor is invalid, or was issued to another viewer"
UNSUPPORTED = "unsupported cursor version: start again from the first page"


def _token() -> str:
    return encode_cursor(_cursor(Sort.TOP_RATED, 0.1 + 0.2), SECRET, viewer=None)


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        WHEN,
        datetime(2025, 5, 1, tzinfo=UTC),
        datetime(2025, 5, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2025, 5, 1, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.OLDEST])
def test_datetime_round_trips_to_the_microsecond(sort: Sort, value: datetime) -> None:
    decoded = _round_trip(_cursor(sort, value))
    assert decoded == _cursor(sort, value)
    assert decoded.position.value.microsecond == value.microsecond  # type: ignore[union-attr]
    assert decoded.position.value.tzinfo is not None  # type: ignore[union-attr]


def test_datetime_in_another_zone_round_trips_as_the_same_instant() -> None:
    value = WHEN.astimezone(timezone(timedelta(hours=5, minutes=30)))
    decoded = _round_trip(_cursor(Sort.NEWEST, value))
    assert decoded.position.value == WHEN


@pytest.mark.parametrize(
    "value", [0.0, 1.0, 0.5, 0.1 + 0.2, 0.1, 1 / 3, 5e-324, 1 - 2**-53, 0.7071067811865476]
)
@pytest.mark.parametrize("sort", [Sort.TOP_RATED, Sort.LOWEST_RATED])
def test_float_round_trips_exactly(sort: Sort, value: float) -> None:
    decoded = _round_trip(_cursor(sort, value))
    assert decoded == _cursor(sort, value)
    assert isinstance(decoded.position.value, float)
    assert decoded.position.value.hex() == value.hex()


@given(
    digest=st.text(alphabet="0123456789abcdef", min_size=0, max_size=16),
    sort=st.sampled_from(list(Sort)),
    when=st.datetimes(timezones=st.just(UTC)),
    score=st.floats(allow_nan=False, allow_infinity=False),
    source=st.sampled_from(list(Source)),
    item=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    secret=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
)
def test_round_trip_property(
    digest: str,
    sort: Sort,
    when: datetime,
    score: float,
    source: Source,
    item: int,
    secret: str,
) -> None:
    value: datetime | float = when if sort.column == "created_at" else score
    cursor = Cursor(digest, sort, Position(value, source, item))
    token = encode_cursor(cursor, secret, viewer=None)
    assert set(token) <= set(URLSAFE)
    assert decode_cursor(token, secret, viewer=None) == cursor


def test_encoding_is_deterministic_and_depends_on_every_field() -> None:
    base = _cursor(Sort.TOP_RATED, 0.5, Source.AUTO, 7)
    variants = [
        base,
        Cursor(DIGEST + "0", base.sort, base.position),
        Cursor(DIGEST, Sort.LOWEST_RATED, base.position),
        _cursor(Sort.TOP_RATED, 0.25, Source.AUTO, 7),
        _cursor(Sort.TOP_RATED, 0.5, Source.REGULAR, 7),
        _cursor(Sort.TOP_RATED, 0.5, Source.AUTO, 8),
    ]
    tokens = [encode_cursor(c, SECRET, viewer=None) for c in variants]
    assert encode_cursor(base, SECRET, viewer=None) == tokens[0]
    assert len(set(tokens)) == len(tokens)


# --- defects -----------------------------------------------------------------------------


def _flip_char(token: str, index: int) -> str:
    """Another url-safe character whose top bit differs: always a different payload."""
    flipped = URLSAFE[URLSAFE.index(token[index]) ^ 0b100000]
    return token[:index] + flipped + token[index + 1 :]


def test_flipping_any_character_is_rejected() -> None:
    token = _token()
    for index in range(len(token)):
        _rejected(_flip_char(token, index))


def test_flipping_any_bit_of_any_byte_is_rejected() -> None:
    raw = _raw(_token())
    for index in range(len(raw)):
        for bit in range(8):
            tampered = bytearray(raw)
            tampered[index] ^= 1 << bit
            expected = UNSUPPORTED if index == 0 else INVALID
            assert _rejected(_b64(bytes(tampered))) == expected


def test_only_the_canonical_encoding_is_accepted() -> None:
    tokens = [  # digests of three lengths: every length modulo 3 of the raw bytes
        encode_cursor(
            Cursor(DIGEST + "x" * (n % 3), Sort.NEWEST, Position(WHEN, Source.AUTO, n)),
            SECRET,
            viewer=None,
        )
        for n in range(99)
    ]
    padded = next(t for t in tokens if len(t) % 4)  # its last character has unused bits
    dashed = next(t for t in tokens if "-" in t)
    variants = [
        padded[:-1] + URLSAFE[URLSAFE.index(padded[-1]) ^ 1],
        "==" + padded,
        padded + "==",
        dashed.replace("-", "+"),
    ]
    accepted = []
    for variant in variants:
        try:
            decode_cursor(variant, SECRET, viewer=None)
        except CursorError:
            continue
        accepted.append(variant)
    assert accepted == []


def test_wrong_secret_is_rejected() -> None:
    token = _token()
    assert _rejected(token, SECRET + "!") == INVALID
    assert _rejected(token, "another-secret") == INVALID


def test_truncated_tokens_are_rejected() -> None:
    token = _token()
    for length in range(len(token)):
        _rejected(token[:length])
    _rejected(token[1:])


@pytest.mark.parametrize(
    "token",
    [
        "",
        "=",
        "====",
        "a",
        "abc",
        "!!!!",
        "not a cursor",
        "%%%%%%%%",
        "ü€😀",
        "\x00" * 8,
        "A" * 22,  # decodes to 16 bytes: a MAC and no payload
        "A" * 40,
        "x" * 513,
        _b64(b"\xff" * 40),
    ],
)
def test_garbage_is_rejected(token: str) -> None:
    _rejected(token)


def test_over_long_token_is_rejected_even_when_sealed() -> None:
    fixed = _AT_TIME.pack(0, 0, 0, 1)
    token = _sealed(fixed + b"d" * 400)
    assert len(token) > 512
    assert _rejected(token) == "malformed cursor"
    shorter = _sealed(fixed + b"d" * 300)
    assert len(shorter) <= 512
    assert decode_cursor(shorter, SECRET, viewer=None).digest == "d" * 300


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00",
        _AT_TIME.pack(0, 0, 0, 1)[:-1],  # one byte short
        _AT_TIME.pack(4, 0, 0, 1),  # no fifth sort
        _AT_TIME.pack(255, 0, 0, 1),
        _AT_TIME.pack(0, 2, 0, 1),  # no third source
        _AT_TIME.pack(0, 255, 0, 1),
        _AT_TIME.pack(0, 0, 2**62, 1),  # beyond datetime's range
        _AT_TIME.pack(1, 0, -(2**62), 1),
        _AT_TIME.pack(0, 0, 0, 1) + b"\xff\xfe",  # a digest that is not UTF-8
    ],
)
def test_sealed_but_malformed_payload_is_rejected(payload: bytes) -> None:
    assert _rejected(_sealed(payload)) == "malformed cursor"


def test_a_token_as_long_as_a_seal_of_nothing_is_malformed() -> None:
    """The version byte and a tag alone: refused for its length before any opening (so
    the tag is zeros here; cryptography 44 refuses to seal an empty payload at all)."""
    assert _rejected(cursor_token(bytes([VERSION]) + bytes(16))) == "malformed cursor"


@pytest.mark.parametrize("version", [0, 1, VERSION + 1, 0x5B, 255])
def test_other_versions_are_rejected(version: int) -> None:
    assert _rejected(_sealed(_AT_TIME.pack(0, 0, 0, 1), version=version)) == UNSUPPORTED


def test_a_version_one_cursor_is_refused_as_unsupported() -> None:
    """Cursors before 2026-12-04: JSON in clear and an HMAC."""
    assert _rejected(cursor_token(b'[1,"d","NEWEST",0,0,1]' + b"\x00" * 16)) == UNSUPPORTED


def test_hand_sealed_payload_is_accepted() -> None:
    """The crafting helper is right: a payload laid out as the module lays it decodes."""
    decoded = decode_cursor(
        _sealed(_AT_TIME.pack(1, 1, 1, 9) + DIGEST.encode()), SECRET, viewer=None
    )
    assert decoded == Cursor(
        DIGEST, Sort.OLDEST, Position(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), Source.AUTO, 9)
    )
    rated = decode_cursor(_sealed(_AT_RATING.pack(2, 0, 1.0, 9)), SECRET, viewer=None)
    assert rated.position.value == 1.0
    assert isinstance(rated.position.value, float)


# --- sealed, and bound to the viewer -----------------------------------------------------

VIEWER_A = UUID(int=11)
VIEWER_B = UUID(int=12)


def test_the_payload_is_not_readable() -> None:
    """Neither the item's id, its time or rating, nor the filter digest appear in the
    token, in any encoding; cursors at neighbouring items share nothing beyond chance."""
    item = 1_234_567
    cursor = _cursor(Sort.NEWEST, WHEN, Source.REGULAR, item)
    raw = _raw(encode_cursor(cursor, SECRET, viewer=None))
    micros = int((WHEN - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)
    for needle in (
        item.to_bytes(8, "big"),
        item.to_bytes(4, "big"),
        micros.to_bytes(8, "big"),
        str(item).encode(),
        DIGEST.encode(),
        bytes.fromhex(DIGEST),
    ):
        assert needle not in raw
    neighbour = _raw(
        encode_cursor(_cursor(Sort.NEWEST, WHEN, Source.REGULAR, item + 1), SECRET, viewer=None)
    )
    shared = sum(a == b for a, b in zip(raw[1:], neighbour[1:], strict=False))
    assert shared < 8  # ~len/256 expected by chance; a readable layout would share most


def test_a_cursor_opens_only_for_its_viewer() -> None:
    cursor = _cursor(Sort.NEWEST, WHEN)
    for owner in (VIEWER_A, VIEWER_B, None):
        token = encode_cursor(cursor, SECRET, viewer=owner)
        assert decode_cursor(token, SECRET, viewer=owner) == cursor
        for other in {VIEWER_A, VIEWER_B, None} - {owner}:
            assert _rejected(token, viewer=other) == INVALID


# --- binding to filter and sort ----------------------------------------------------------


def test_check_cursor_returns_the_position_for_its_own_filter_and_sort() -> None:
    cursor = _cursor(Sort.NEWEST, WHEN)
    assert check_cursor(cursor, DIGEST, Sort.NEWEST) == cursor.position


@pytest.mark.parametrize(
    ("digest", "sort"),
    [
        (ContentFilter(tag_keys=(3,)).digest(Sort.NEWEST), Sort.NEWEST),
        (DIGEST, Sort.OLDEST),
        (ContentFilter(tag_keys=(1, 3)).digest(Sort.OLDEST), Sort.OLDEST),
        ("", Sort.NEWEST),
        (DIGEST.upper(), Sort.NEWEST),
    ],
)
def test_check_cursor_rejects_another_filter_or_sort(digest: str, sort: Sort) -> None:
    with pytest.raises(CursorError, match="different filter or sort"):
        check_cursor(_cursor(Sort.NEWEST, WHEN), digest, sort)
