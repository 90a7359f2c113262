"""Keyset cursors: exact round trips, and every kind of defect rejected as CursorError.

Also the filter digest cursors are bound to. No database needed.
"""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.cursor import (
    VERSION,
    Cursor,
    CursorError,
    _mac,
    check_cursor,
    decode_cursor,
    encode_cursor,
)
from gallery_gql.gallery.query.filters import ContentFilter, Position, Sort, TagMatch

SECRET = "cursor-test-secret-" + "y" * 24
DIGEST = ContentFilter(tag_keys=(3, 1)).digest(Sort.NEWEST)
URLSAFE = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
WHEN = datetime(2025, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _cursor(
    sort: Sort, value: datetime | float, source: Source = Source.AUTO, item: int = 42
) -> Cursor:
    return Cursor(DIGEST, sort, Position(value, source, item))


def _round_trip(cursor: Cursor, secret: str = SECRET) -> Cursor:
    return decode_cursor(encode_cursor(cursor, secret), secret)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _signed(payload: object, secret: str = SECRET) -> str:
    """A correctly signed token around any JSON payload (or raw bytes)."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return _b64(body + _mac(secret, body))


def _rejected(token: str, secret: str = SECRET) -> str:
    with pytest.raises(CursorError) as caught:
        decode_cursor(token, secret)
    return str(caught.value)


def _token() -> str:
    return encode_cursor(_cursor(Sort.TOP_RATED, 0.1 + 0.2), SECRET)


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
    token = encode_cursor(cursor, secret)
    assert set(token) <= set(URLSAFE)
    assert decode_cursor(token, secret) == cursor


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
    tokens = [encode_cursor(c, SECRET) for c in variants]
    assert encode_cursor(base, SECRET) == tokens[0]
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
            assert _rejected(_b64(bytes(tampered))) == "cursor signature is invalid"


def test_only_the_canonical_encoding_is_accepted() -> None:
    tokens = [encode_cursor(_cursor(Sort.NEWEST, WHEN, Source.AUTO, n), SECRET) for n in range(99)]
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
            decode_cursor(variant, SECRET)
        except CursorError:
            continue
        accepted.append(variant)
    assert accepted == []


def test_wrong_secret_is_rejected() -> None:
    token = _token()
    assert _rejected(token, SECRET + "!") == "cursor signature is invalid"
    assert _rejected(token, "another-secret") == "cursor signature is invalid"


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


def test_over_long_token_is_rejected_even_when_signed() -> None:
    token = _signed([VERSION, "d" * 400, "NEWEST", 0, 0, 1])
    assert len(token) > 512
    assert _rejected(token) == "malformed cursor"
    shorter = _signed([VERSION, "d" * 300, "NEWEST", 0, 0, 1])
    assert len(shorter) <= 512
    assert decode_cursor(shorter, SECRET).digest == "d" * 300


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not json", b"[1, 2", b"\xff\xfe", b"{}", b"null", b"42", b'"abcdef"'],
)
def test_base64_of_garbage_json_is_rejected_signed_or_not(garbage: bytes) -> None:
    _rejected(_b64(garbage + b"\x00" * 16))
    _rejected(_signed(garbage))


@pytest.mark.parametrize(
    "payload",
    [
        [],
        [VERSION],
        [VERSION, DIGEST, "NEWEST", 0, 0],
        [VERSION, DIGEST, "NEWEST", 0, 0, 1, 2],
        {"version": VERSION},
        [VERSION, DIGEST, "SIDEWAYS", 0, 0, 1],
        [VERSION, DIGEST, "newest", 0, 0, 1],
        [VERSION, DIGEST, "NEWEST", 0, 2, 1],
        [VERSION, DIGEST, "NEWEST", 0, -1, 1],
        [VERSION, DIGEST, "NEWEST", 0, "AUTO", 1],
        [VERSION, DIGEST, "NEWEST", 0, 0, "1"],
        [VERSION, DIGEST, "NEWEST", 0, 0, 1.5],
        [VERSION, DIGEST, "NEWEST", 0, 0, None],
        [VERSION, 7, "NEWEST", 0, 0, 1],
        [VERSION, None, "NEWEST", 0, 0, 1],
        [VERSION, DIGEST, "NEWEST", 0.5, 0, 1],
        [VERSION, DIGEST, "NEWEST", "2025-05-01T00:00:00Z", 0, 1],
        [VERSION, DIGEST, "NEWEST", True, 0, 1],
        [VERSION, DIGEST, "NEWEST", None, 0, 1],
        [VERSION, DIGEST, "NEWEST", 2**62, 0, 1],
        [VERSION, DIGEST, "OLDEST", -(2**62), 0, 1],
        [VERSION, DIGEST, "NEWEST", 2**64 - 1, 0, 1],
        [VERSION, DIGEST, "TOP_RATED", "0.5", 0, 1],
        [VERSION, DIGEST, "TOP_RATED", None, 0, 1],
        [VERSION, DIGEST, "TOP_RATED", False, 0, 1],
        [VERSION, DIGEST, "TOP_RATED", [0.5], 0, 1],
    ],
)
def test_signed_but_malformed_payload_is_rejected(payload: object) -> None:
    _rejected(_signed(payload))


@pytest.mark.parametrize("version", [0, 2, VERSION + 1, -1, "1", None, [1]])
def test_other_versions_are_rejected(version: object) -> None:
    message = _rejected(_signed([version, DIGEST, "NEWEST", 0, 0, 1]))
    assert message.startswith(("unsupported cursor version", "malformed cursor"))


def test_version_two_names_the_version() -> None:
    assert _rejected(_signed([2, DIGEST, "NEWEST", 0, 0, 1])) == "unsupported cursor version 2"


def test_hand_signed_version_one_payload_is_accepted() -> None:
    """The crafting helper is right: the same payload at VERSION decodes."""
    decoded = decode_cursor(_signed([VERSION, DIGEST, "OLDEST", 1, 1, 9]), SECRET)
    assert decoded == Cursor(
        DIGEST, Sort.OLDEST, Position(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), Source.AUTO, 9)
    )
    rated = decode_cursor(_signed([VERSION, DIGEST, "TOP_RATED", 1, 0, 9]), SECRET)
    assert rated.position.value == 1.0
    assert isinstance(rated.position.value, float)


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


# --- the filter digest -------------------------------------------------------------------

USER_A = UUID(int=1)
USER_B = UUID(int=2)


def test_digest_ignores_tag_order_duplicates_and_viewer() -> None:
    same = [
        ContentFilter(tag_keys=(1, 2, 3), exclude_tag_keys=(9, 8)),
        ContentFilter(tag_keys=(3, 1, 2), exclude_tag_keys=(8, 9)),
        ContentFilter(tag_keys=(2, 3, 1, 3), exclude_tag_keys=(9, 8, 9)),
        ContentFilter(tag_keys=(1, 2, 3), exclude_tag_keys=(8, 9), viewer_id=USER_A),
    ]
    for sort in Sort:
        assert len({flt.digest(sort) for flt in same}) == 1


def test_digest_ignores_equivalent_spellings() -> None:
    pairs = [
        (ContentFilter(tag_keys=(5,), match=TagMatch.ALL), ContentFilter(tag_keys=(5,))),
        (ContentFilter(match=TagMatch.ALL), ContentFilter()),
        (ContentFilter(sources=(Source.AUTO, Source.REGULAR)), ContentFilter()),
        (ContentFilter(search="  Neon, CAT!"), ContentFilter(search="neon cat")),
        (ContentFilter(search="!!!"), ContentFilter()),
    ]
    for left, right in pairs:
        assert left.digest(Sort.NEWEST) == right.digest(Sort.NEWEST)


def test_different_filters_and_sorts_give_different_digests() -> None:
    filters = [
        ContentFilter(),
        ContentFilter(tag_keys=(1,)),
        ContentFilter(tag_keys=(2,)),
        ContentFilter(tag_keys=(1, 2)),
        ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL),
        ContentFilter(tag_keys=(12,)),
        ContentFilter(tag_keys=(1,), exclude_tag_keys=(2,)),
        ContentFilter(exclude_tag_keys=(1,)),
        ContentFilter(exclude_tag_keys=(1, 2)),
        ContentFilter(sources=(Source.REGULAR,)),
        ContentFilter(sources=(Source.AUTO,)),
        ContentFilter(sources=()),
        ContentFilter(creator_id=USER_A),
        ContentFilter(creator_id=USER_B),
        ContentFilter(exclude_creator_id=USER_A),
        ContentFilter(creator_id=USER_A, exclude_creator_id=USER_B),
        ContentFilter(search="cat"),
        ContentFilter(search="cat dog"),
        ContentFilter(search="dog cat"),
    ]
    digests = [flt.digest(sort) for flt in filters for sort in Sort]
    assert len(set(digests)) == len(filters) * len(Sort)
    assert all(len(d) == 16 and set(d) <= set("0123456789abcdef") for d in digests)
