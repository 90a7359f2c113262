"""contentItems rejects bad cursors and bad paging or tag arguments as BAD_USER_INPUT:
HTTP 200, no data, and a message that leaks nothing about the implementation.

Malformed page sizes and cursors are refused by their scalars before execution (no `path`;
more in test_input_scalars.py); what needs the secret or the filter, by the field."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id
from gallery_gql.gallery.query.cursor import cursor_token, decode_cursor, encode_cursor
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset
from tests.model import ModelQuery, expected, load_items

PAGE = """
query Page($tags: [ID!], $exclude: [ID!], $sort: ContentSort, $first: Int, $cursor: Cursor,
           $after: Cursor, $last: Int, $before: Cursor) {
  contentItems(tags: $tags, excludeTags: $exclude, sort: $sort, first: $first,
               cursor: $cursor, after: $after, last: $last, before: $before) {
    edges { cursor node { databaseId } }
    pageInfo { endCursor startCursor }
  }
}
"""
LEAKS = ("traceback", "sqlalchemy", "asyncpg", "psycopg", "orjson", "binascii", 'file "')


@pytest.fixture(scope="module")
def database_url(module_database_url: str) -> str:
    """These tests only read: one database for the module."""
    return module_database_url


def _tags(dataset: Dataset, *indexes: int) -> list[str]:
    return [str(dataset.tags[i]) for i in indexes]


async def _page(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await gql.data(PAGE, variables))["contentItems"]
    return data


async def _end_cursor(gql: GraphQLClient, **variables: Any) -> str:
    page = await _page(gql, first=3, **variables)
    assert len(page["edges"]) == 3
    cursor: str = page["pageInfo"]["endCursor"]
    return cursor


async def _rejected(gql: GraphQLClient, variables: dict[str, Any]) -> dict[str, Any]:
    """The single error of a rejected request, after checking its shape."""
    body = await gql.post(PAGE, variables)
    assert body["_status"] == 200, body
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    text = str(error)
    assert "SELECT" not in text
    assert not [leak for leak in LEAKS if leak in text.lower()], error
    return error


async def _bad_input(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    """Refused by the field: the error has its `path`."""
    error = await _rejected(gql, variables)
    assert error["path"] == ["contentItems"], error
    return error


async def _bad_scalar_input(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    """Refused while the variables were coerced, before execution: no `path`."""
    error = await _rejected(gql, variables)
    assert "path" not in error, error
    return error


def _tamper(token: str) -> str:
    """The same token with one character (in the signed middle) changed."""
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


# --- cursors -----------------------------------------------------------------------------


async def test_a_good_cursor_is_accepted(gql: GraphQLClient, module_gallery: Dataset) -> None:
    tags = _tags(module_gallery, 0)
    cursor = await _end_cursor(gql, tags=tags)
    assert (await _page(gql, tags=tags, cursor=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, after=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, cursor=cursor, after=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, before=cursor, last=2))["edges"]


async def test_tampered_cursor(gql: GraphQLClient, module_gallery: Dataset) -> None:
    tags = _tags(module_gallery, 0)
    tampered = _tamper(await _end_cursor(gql, tags=tags))
    for paging in ({"cursor": tampered}, {"after": tampered}, {"before": tampered, "last": 2}):
        error = await _bad_input(gql, tags=tags, **paging)
        assert "cursor is invalid" in error["message"]
        name = "before" if "before" in paging else "cursor"
        assert f"`{name}`" in error["message"]


async def test_cursor_from_another_filter(gql: GraphQLClient, module_gallery: Dataset) -> None:
    cursor = await _end_cursor(gql, tags=_tags(module_gallery, 0))
    others: list[dict[str, Any]] = [
        {"tags": _tags(module_gallery, 1)},
        {"tags": _tags(module_gallery, 0, 1)},
        {},
        {"tags": _tags(module_gallery, 0), "exclude": _tags(module_gallery, 2)},
    ]
    for variables in others:
        error = await _bad_input(gql, cursor=cursor, **variables)
        assert "different filter or sort" in error["message"]
        await _bad_input(gql, before=cursor, last=2, **variables)


async def test_cursor_from_another_sort(gql: GraphQLClient, module_gallery: Dataset) -> None:
    tags = _tags(module_gallery, 0)
    newest = await _end_cursor(gql, tags=tags, sort="NEWEST")
    for sort in ("OLDEST", "TOP_RATED", "LOWEST_RATED"):
        error = await _bad_input(gql, tags=tags, sort=sort, cursor=newest)
        assert "different filter or sort" in error["message"]
    rated = await _end_cursor(gql, tags=tags, sort="TOP_RATED")
    await _bad_input(gql, tags=tags, sort="LOWEST_RATED", after=rated)
    await _bad_input(gql, tags=tags, cursor=rated)  # default sort is NEWEST


async def test_cursor_signed_with_another_secret(
    gql: GraphQLClient, module_gallery: Dataset, settings: Settings
) -> None:
    tags = _tags(module_gallery, 0)
    secret = settings.signing_secret()
    genuine = decode_cursor(await _end_cursor(gql, tags=tags), secret, viewer=None)
    forged = encode_cursor(genuine, "not-the-server-secret", viewer=None)
    assert encode_cursor(genuine, secret, viewer=None) != forged
    error = await _bad_input(gql, tags=tags, cursor=forged)
    assert "cursor is invalid" in error["message"]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage!",
        "garbage",  # its last character carries bits that no byte string encodes to
        "!!!!",
        "ü€😀",
        base64.urlsafe_b64encode(b'[1,"d","NEWEST",0,0,1]' + b"\x00" * 16).decode(),  # padded
        "' OR 1=1; SELECT * FROM users --",
    ],
)
async def test_malformed_cursor_is_refused_by_the_scalar(
    gql: GraphQLClient, module_gallery: Dataset, garbage: str
) -> None:
    error = await _bad_scalar_input(gql, tags=_tags(module_gallery, 0), cursor=garbage)
    assert error["message"].startswith("Variable '$cursor' has invalid value: malformed cursor")
    await _bad_scalar_input(gql, before=garbage, last=3)


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage0",
        "x" * 600,  # well-formed, but longer than any content cursor
        "WzEsImFiYyJd",  # base64 of a short JSON list, no MAC
        cursor_token(b'[1,"d","NEWEST",0,0,1]' + b"\x00" * 16),  # a MAC of zeros
        encode_global_id("ContentItem", "REGULAR:1"),
    ],
)
async def test_well_formed_garbage_cursor_is_refused_by_the_field(
    gql: GraphQLClient, module_gallery: Dataset, garbage: str
) -> None:
    error = await _bad_input(gql, tags=_tags(module_gallery, 0), cursor=garbage)
    assert error["message"].startswith("invalid `cursor`")
    await _bad_input(gql, before=garbage, last=3)


# --- paging arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "paging", [{"first": 0}, {"first": 101}, {"first": -1}, {"last": 101}, {"last": 0}]
)
async def test_page_size_out_of_range(
    gql: GraphQLClient, module_gallery: Dataset, paging: dict[str, int]
) -> None:
    error = await _bad_scalar_input(gql, tags=_tags(module_gallery, 0), **paging)
    (name,) = paging
    assert error["message"] == (
        f"Variable '${name}' has invalid value: a page size is a whole number from 1 to 100"
    )


async def test_page_size_bounds_are_inclusive(
    gql: GraphQLClient, module_gallery: Dataset, engine: AsyncEngine
) -> None:
    public = len(expected(await load_items(engine), ModelQuery()))
    assert public > 20
    for paging in ({"first": 1}, {"last": 1}, {"first": 100}, {"last": 100}):
        size = next(iter(paging.values()))
        assert len((await _page(gql, **paging))["edges"]) == min(size, public)


@pytest.mark.parametrize(
    ("which", "phrase"),
    [
        ("cursor+last", "`last` pages backward"),
        ("after+last", "`last` pages backward"),
        ("before", "`before` pages backward: give it with `last`"),
        ("before+first", "`before` pages backward: give it with `last`"),
        ("cursor!=after", "`cursor` and `after` are the same argument"),
    ],
)
async def test_conflicting_paging_arguments(
    gql: GraphQLClient, module_gallery: Dataset, which: str, phrase: str
) -> None:
    tags = _tags(module_gallery, 0)
    first = (await _page(gql, tags=tags, first=2))["pageInfo"]
    one, two = first["startCursor"], first["endCursor"]
    assert one != two
    paging = {
        "cursor+last": {"cursor": one, "last": 2},
        "after+last": {"after": one, "last": 2},
        "before": {"before": one},
        "before+first": {"before": one, "first": 2},
        "cursor!=after": {"cursor": one, "after": two},
    }[which]
    error = await _bad_input(gql, tags=tags, **paging)
    assert phrase in error["message"]


# --- tag arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["tags", "exclude"])
async def test_too_many_tags(gql: GraphQLClient, module_gallery: Dataset, argument: str) -> None:
    many = [str(uuid.uuid4()) for _ in range(21)]
    error = await _bad_input(gql, **{argument: many})
    name = "tags" if argument == "tags" else "excludeTags"
    assert error["message"] == f"`{name}` takes at most 20 tags, got 21"
    assert (await gql.post(PAGE, {argument: many[:20]}))["errors"][0]["extensions"][
        "unknownTags"
    ] == sorted(many[:20])


@pytest.mark.parametrize("as_global_id", [False, True])
async def test_unknown_tag_is_named(
    gql: GraphQLClient, module_gallery: Dataset, as_global_id: bool
) -> None:
    unknown = uuid.UUID("0badc0de-0000-4000-8000-000000000001")
    spelled = encode_global_id("Tag", str(unknown)) if as_global_id else str(unknown)
    error = await _bad_input(gql, tags=[*_tags(module_gallery, 0), spelled])
    assert str(unknown) in error["message"]
    assert error["extensions"]["unknownTags"] == [str(unknown)]
    excluded = await _bad_input(gql, tags=_tags(module_gallery, 0), exclude=[spelled])
    assert excluded["extensions"]["unknownTags"] == [str(unknown)]


@pytest.mark.parametrize(
    "tag",
    [
        "not-a-tag",
        "12345",
        "",
        "0badc0de-0000-4000-8000-00000000000",
        base64.b64encode(b"Tag:not-a-uuid").decode(),
        encode_global_id("User", str(uuid.UUID(int=1))),
        encode_global_id("ContentItem", "REGULAR:1"),
        base64.b64encode(b"no separator").decode(),
        "x" * 500,
    ],
)
async def test_malformed_tag_id(gql: GraphQLClient, module_gallery: Dataset, tag: str) -> None:
    error = await _bad_input(gql, tags=[tag])
    assert "id" in error["message"]
    await _bad_input(gql, exclude=[tag])
