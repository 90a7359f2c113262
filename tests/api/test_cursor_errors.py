"""contentItems rejects bad cursors and bad paging or tag arguments as BAD_USER_INPUT:
HTTP 200, no data, and a message that leaks nothing about the implementation."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gallery_gql.api.global_id import encode_global_id
from gallery_gql.gallery.cursor import decode_cursor, encode_cursor
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery
from tests.model import ModelQuery, expected, load_items

PAGE = """
query Page($tags: [ID!], $exclude: [ID!], $sort: ContentSort, $first: Int, $cursor: String,
           $after: String, $last: Int, $before: String) {
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


@pytest.fixture(scope="module")
async def dataset(database_url: str) -> AsyncIterator[Dataset]:
    engine = create_async_engine(database_url)
    yield await build_gallery(engine, regular=30, auto=60)
    await engine.dispose()


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


async def _bad_input(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    """The single error of a rejected request, after checking its shape."""
    body = await gql.post(PAGE, variables)
    assert body["_status"] == 200, body
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["path"] == ["contentItems"]
    text = str(error)
    assert "SELECT" not in text
    assert not [leak for leak in LEAKS if leak in text.lower()], error
    return error


def _tamper(token: str) -> str:
    """The same token with one character (in the signed middle) changed."""
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


# --- cursors -----------------------------------------------------------------------------


async def test_a_good_cursor_is_accepted(gql: GraphQLClient, dataset: Dataset) -> None:
    tags = _tags(dataset, 0)
    cursor = await _end_cursor(gql, tags=tags)
    assert (await _page(gql, tags=tags, cursor=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, after=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, cursor=cursor, after=cursor, first=2))["edges"]
    assert (await _page(gql, tags=tags, before=cursor, last=2))["edges"]


async def test_tampered_cursor(gql: GraphQLClient, dataset: Dataset) -> None:
    tags = _tags(dataset, 0)
    tampered = _tamper(await _end_cursor(gql, tags=tags))
    for paging in ({"cursor": tampered}, {"after": tampered}, {"before": tampered, "last": 2}):
        error = await _bad_input(gql, tags=tags, **paging)
        assert "signature" in error["message"]
        name = "before" if "before" in paging else "cursor"
        assert f"`{name}`" in error["message"]


async def test_cursor_from_another_filter(gql: GraphQLClient, dataset: Dataset) -> None:
    cursor = await _end_cursor(gql, tags=_tags(dataset, 0))
    others: list[dict[str, Any]] = [
        {"tags": _tags(dataset, 1)},
        {"tags": _tags(dataset, 0, 1)},
        {},
        {"tags": _tags(dataset, 0), "exclude": _tags(dataset, 2)},
    ]
    for variables in others:
        error = await _bad_input(gql, cursor=cursor, **variables)
        assert "different filter or sort" in error["message"]
        await _bad_input(gql, before=cursor, last=2, **variables)


async def test_cursor_from_another_sort(gql: GraphQLClient, dataset: Dataset) -> None:
    tags = _tags(dataset, 0)
    newest = await _end_cursor(gql, tags=tags, sort="NEWEST")
    for sort in ("OLDEST", "TOP_RATED", "LOWEST_RATED"):
        error = await _bad_input(gql, tags=tags, sort=sort, cursor=newest)
        assert "different filter or sort" in error["message"]
    rated = await _end_cursor(gql, tags=tags, sort="TOP_RATED")
    await _bad_input(gql, tags=tags, sort="LOWEST_RATED", after=rated)
    await _bad_input(gql, tags=tags, cursor=rated)  # default sort is NEWEST


async def test_cursor_signed_with_another_secret(
    gql: GraphQLClient, dataset: Dataset, settings: Settings
) -> None:
    tags = _tags(dataset, 0)
    genuine = decode_cursor(await _end_cursor(gql, tags=tags), settings.signing_secret())
    forged = encode_cursor(genuine, "not-the-server-secret")
    assert encode_cursor(genuine, settings.signing_secret()) != forged
    error = await _bad_input(gql, tags=tags, cursor=forged)
    assert "signature" in error["message"]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "!!!!",
        "x" * 600,
        "ü€😀",
        "WzEsImFiYyJd",  # base64 of a short JSON list, no MAC
        base64.urlsafe_b64encode(b'[1,"d","NEWEST",0,0,1]' + b"\x00" * 16).decode(),
        "' OR 1=1; SELECT * FROM users --",
        encode_global_id("ContentItem", "REGULAR:1"),
    ],
)
async def test_garbage_cursor(gql: GraphQLClient, dataset: Dataset, garbage: str) -> None:
    error = await _bad_input(gql, tags=_tags(dataset, 0), cursor=garbage)
    assert error["message"].startswith("invalid `cursor`")
    await _bad_input(gql, before=garbage, last=3)


# --- paging arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paging", "phrase"),
    [
        ({"first": 0}, "`first` must be between 1 and 100, got 0"),
        ({"first": 101}, "`first` must be between 1 and 100, got 101"),
        ({"first": -1}, "`first` must be between 1 and 100, got -1"),
        ({"last": 101}, "`last` must be between 1 and 100, got 101"),
        ({"last": 0}, "`last` must be between 1 and 100, got 0"),
        ({"last": -5}, "`last` must be between 1 and 100, got -5"),
    ],
)
async def test_page_size_out_of_range(
    gql: GraphQLClient, dataset: Dataset, paging: dict[str, int], phrase: str
) -> None:
    error = await _bad_input(gql, tags=_tags(dataset, 0), **paging)
    assert error["message"] == phrase


async def test_page_size_bounds_are_inclusive(
    gql: GraphQLClient, dataset: Dataset, engine: AsyncEngine
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
    gql: GraphQLClient, dataset: Dataset, which: str, phrase: str
) -> None:
    tags = _tags(dataset, 0)
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
async def test_too_many_tags(gql: GraphQLClient, dataset: Dataset, argument: str) -> None:
    many = [str(uuid.uuid4()) for _ in range(21)]
    error = await _bad_input(gql, **{argument: many})
    name = "tags" if argument == "tags" else "excludeTags"
    assert error["message"] == f"`{name}` takes at most 20 tags, got 21"
    assert (await gql.post(PAGE, {argument: many[:20]}))["errors"][0]["extensions"][
        "unknownTags"
    ] == sorted(many[:20])


@pytest.mark.parametrize("as_global_id", [False, True])
async def test_unknown_tag_is_named(
    gql: GraphQLClient, dataset: Dataset, as_global_id: bool
) -> None:
    unknown = uuid.UUID("0badc0de-0000-4000-8000-000000000001")
    spelled = encode_global_id("Tag", str(unknown)) if as_global_id else str(unknown)
    error = await _bad_input(gql, tags=[*_tags(dataset, 0), spelled])
    assert str(unknown) in error["message"]
    assert error["extensions"]["unknownTags"] == [str(unknown)]
    excluded = await _bad_input(gql, tags=_tags(dataset, 0), exclude=[spelled])
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
async def test_malformed_tag_id(gql: GraphQLClient, dataset: Dataset, tag: str) -> None:
    error = await _bad_input(gql, tags=[tag])
    assert "id" in error["message"]
    await _bad_input(gql, exclude=[tag])
