"""The compiled path answers exactly as the general executor does.

Hypothesis writes documents (fields the compiler knows and some it does not, aliases,
duplicated keys, named and inline fragments, directives, literals and variables, errors:
page sizes out of bounds, unknown tags, forged cursors, ids that are not items', a scope
without a viewer, a missing variable) and draws filters and viewers; each request goes to
two apps on the same database, one with the compiled path and one without, and the two
HTTP answers must be identical: status, media type and body, byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.global_id import encode_global_id, item_global_id
from gallery_gql.auth import mint_token
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.query.cursor import encode_cursors
from gallery_gql.ops.trusted_documents import client_documents
from gallery_gql.settings import Settings
from tests.api.conftest import app_client
from tests.factories import WORDS, Dataset

ITEM_LEAVES = [
    "id",
    "databaseId",
    "source",
    "title",
    "contentType",
    "contentData",
    "prompt",
    "qualityScore",
    "isPrivate",
    "createdAt",
    "updatedAt",
    "version",
    "metadata",
    "__typename",
    "thumbnail",
    'thumbnail(resolution: "512x512")',
    "thumbnail(resolution: $resolution)",
    "creator { username id databaseId isActive createdAt __typename }",
    "creator { username }",
    "tags { id name }",
    "tags { name }",
    "tags { __typename ... on Tag { name } n: databaseId }",
    "tags { databaseId createdAt __typename }",
    "tags { name itemCount }",  # not compiled: an argument-taking async field
    "... on Node { id }",
    "... on ContentItem { title }",
    "...ItemBits",
    "title @include(if: true)",  # not compiled: a directive
]
PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
TOTAL = ["count", "isExact", "__typename"]
FRAGMENT = "fragment ItemBits on ContentItem { databaseId qualityScore }"


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


def _aliased(draw: st.DrawFn, field: str) -> str:
    """Sometimes aliased: one alias per field name, so that most documents validate
    (a key given to two different fields is a validation error) and a field drawn twice
    is merged under its alias."""
    if draw(st.integers(0, 3)) == 0 and not field.startswith("..."):
        return f"k_{re.split(r'[^A-Za-z_]', field)[0]}: {field}"
    return field


def _pick(draw: st.DrawFn, fields: list[str], at_least: int = 1) -> str:
    chosen = draw(st.lists(st.sampled_from(fields), min_size=at_least, max_size=6))
    return " ".join(_aliased(draw, field) for field in chosen)


def _connection(draw: st.DrawFn, leaves: list[str], parts: list[str]) -> str:
    """A connection's selections: some of `parts`, edges with nodes of some `leaves`."""
    node = _pick(draw, leaves)
    chosen = []
    for part in draw(st.lists(st.sampled_from(parts), min_size=1, max_size=3)):
        if part == "edges":
            edge = draw(st.lists(st.sampled_from(["cursor", "node", "__typename"]), min_size=1))
            inner = " ".join(f"node {{ {node} }}" if e == "node" else e for e in edge)
            chosen.append(_aliased(draw, f"edges {{ {inner} }}"))
        elif part == "pageInfo":
            chosen.append(_aliased(draw, f"pageInfo {{ {_pick(draw, PAGE_INFO)} }}"))
        elif part == "totalCount":
            chosen.append(_aliased(draw, f"totalCount {{ {_pick(draw, TOTAL)} }}"))
        else:
            chosen.append(part)
    return " ".join(chosen)


@st.composite
def page_document(draw: st.DrawFn) -> str:
    parts = _connection(draw, ITEM_LEAVES, ["edges", "pageInfo", "totalCount", "__typename"])
    size = draw(st.sampled_from(["$first", "3", "25"]))
    root = _aliased(
        draw,
        f"contentItems(tags: $tags, tagNames: $tagNames, match: $match, creator: $creator, "
        f"sort: $sort, first: {size}, cursor: $cursor, search: $search) {{ {parts} }}",
    )
    extra = " __typename" if draw(st.booleans()) else ""
    return _declared("Page", f"{root}{extra}")


DECLARATIONS = {
    "tags": "[ID!]",
    "tagNames": "[String!]",
    "match": "TagMatchMode!",
    "creator": "CreatorFilter",
    "sort": "ContentSort!",
    "first": "Int",
    "cursor": "Cursor",
    "search": "String",
    "resolution": "String",
    "id": "ID!",
    "after": "Cursor",
    "sources": "[ContentSource!]",
}


def _declared(name: str, selections: str) -> str:
    """The operation with the variables it uses declared and the fragment if spread (an
    unused one is a validation error, which would hide the compiled path)."""
    used = [
        f"${v}: {t}"
        for v, t in DECLARATIONS.items()
        if f"${v})" in selections or f"${v}," in selections
    ]
    declared = f"({', '.join(used)})" if used else ""
    fragment = f" {FRAGMENT}" if "...ItemBits" in selections else ""
    return f"query {name}{declared} {{ {selections} }}{fragment}"


@st.composite
def page_variables(draw: st.DrawFn, dataset: Dataset) -> dict[str, Any]:
    tags = draw(st.lists(st.sampled_from(dataset.tags), max_size=3, unique=True))
    by_name = draw(st.booleans())
    variables: dict[str, Any] = {
        "tags": None if by_name else [str(t) for t in tags],
        "tagNames": [dataset.tag_names[t] for t in tags] if by_name else None,
        "match": draw(st.sampled_from(["ANY", "ALL"])),
        "creator": draw(st.sampled_from([None, None, {"scope": "ME"}, {"scope": "OTHERS"}])),
        "sort": draw(st.sampled_from(["NEWEST", "OLDEST", "TOP_RATED"])),
        "first": draw(st.sampled_from([1, 5, 25, 100, None])),
        "search": draw(st.one_of(st.none(), st.sampled_from(WORDS))),
        "resolution": draw(st.sampled_from([None, "512x512", "1024x1024"])),
        "cursor": None,
    }
    trouble = draw(st.integers(0, 23))
    if trouble == 0:
        variables["first"] = draw(st.sampled_from([0, 101, -1]))
    elif trouble == 1:
        variables["tags"] = ["00000000-0000-0000-0000-000000000000"]
    elif trouble == 2:
        variables["tagNames"] = ["no-such-tag"]
    elif trouble == 3:
        variables["cursor"] = draw(
            st.sampled_from(["bogus", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
        )
    elif trouble == 4:
        del variables["match"]
    elif trouble == 5:
        variables["first"] = "many"
    return variables


TAG_LEAVES = [
    "id",
    "databaseId",
    "name",
    "createdAt",
    "__typename",
    "itemCount",
    "itemCount(sources: [AUTO])",
    "itemCount(sources: $sources)",
    "parents { name }",  # not compiled
    "... on Tag { name }",
]


@st.composite
def tag_request(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    parts = _connection(draw, TAG_LEAVES, ["edges", "pageInfo", "__typename"])
    root = _aliased(draw, f"tags(search: $search, first: $first, after: $after) {{ {parts} }}")
    variables = {
        "search": draw(st.sampled_from([None, "tag", "1", "x", "%"])),
        "first": draw(st.sampled_from([1, 3, 20, None, 1, 3, 20, 0])),
        "after": draw(st.sampled_from([None] * 7 + ["bogus"])),
        "sources": draw(st.sampled_from([None, ["REGULAR"], ["AUTO", "REGULAR"]])),
    }
    return _declared("Tags", root), variables


@st.composite
def item_request(draw: st.DrawFn, dataset: Dataset) -> tuple[str, dict[str, Any]]:
    node = _pick(draw, ITEM_LEAVES)
    key = ItemKey(draw(st.sampled_from(list(Source))), draw(st.integers(1, 95)))
    item_id = draw(
        st.sampled_from(
            [item_global_id(key)] * 4 + ["not-an-id", encode_global_id("Tag", str(dataset.tags[0]))]
        )
    )
    root = _aliased(draw, f"contentItem(id: $id) {{ {node} }}")
    return _declared("Item", root), {
        "id": item_id,
        "resolution": draw(st.sampled_from([None, "512x512"])),
    }


ANSWERS = {"data": 0, "errors": 0}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_compiled_path_answers_as_the_executor(
    data: st.DataObject,
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    module_gallery: Dataset,
    settings: Settings,
) -> None:
    dataset = module_gallery
    kind = data.draw(st.sampled_from(["page", "page", "item", "tags"]))
    if kind == "page":
        document = data.draw(page_document())
        variables = data.draw(page_variables(dataset))
    elif kind == "item":
        document, variables = data.draw(item_request(dataset))
    else:
        document, variables = data.draw(tag_request())
    viewer = data.draw(st.sampled_from([None, *dataset.users[:2]]))
    headers = {"Authorization": f"Bearer {mint_token(viewer, settings)}"} if viewer else {}
    body = {"query": document, "variables": variables}
    fast, slow = both
    compiled = await fast.post("/graphql", json=body, headers=headers)
    general = await slow.post("/graphql", json=body, headers=headers)
    ANSWERS["errors" if b'"errors"' in general.content else "data"] += 1
    assert compiled.status_code == general.status_code
    assert compiled.headers["content-type"] == general.headers["content-type"]
    assert compiled.content == general.content


async def test_next_pages_by_cursor_answer_alike(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], module_gallery: Dataset
) -> None:
    document = (
        "query P($cursor: Cursor) { contentItems(first: 7, cursor: $cursor) "
        "{ edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }"
    )
    fast, slow = both
    cursor = None
    for _ in range(5):
        body = {"query": document, "variables": {"cursor": cursor}}
        compiled = await fast.post("/graphql", json=body)
        assert compiled.content == (await slow.post("/graphql", json=body)).content
        cursor = compiled.json()["data"]["contentItems"]["pageInfo"]["endCursor"]


async def test_the_gallery_grid_seals_only_its_pages_two_ends(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    module_gallery: Dataset,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gallery page's own grid shows no edge cursors: compiled, each page seals its
    first and last positions only, and answers as the executor does, forward by
    `endCursor` and back by `startCursor`."""
    [grid] = [
        d.body
        for d in client_documents()
        if d.name == "GalleryPage" and d.body.startswith("query GalleryPage")
    ]
    sealed: list[int] = []

    def counted(digest: str, sort: Any, positions: Any, secret: str, **kw: Any) -> list[str]:
        sealed.append(len(positions))
        return encode_cursors(digest, sort, positions, secret, **kw)

    monkeypatch.setattr("gallery_gql.api.queries.content_page.encode_cursors", counted)
    fast, slow = both
    variables: dict[str, Any] = {"match": "ANY", "sort": "NEWEST", "first": 7}
    for step in range(4):
        body = {"query": grid, "variables": variables}
        sealed.clear()
        compiled = await fast.post("/graphql", json=body)
        assert sealed == [2], sealed
        assert compiled.content == (await slow.post("/graphql", json=body)).content
        page = compiled.json()["data"]["contentItems"]
        assert len(page["edges"]) == 7
        info = page["pageInfo"]
        if step < 2:
            variables = {**variables, "cursor": info["endCursor"]}
        else:
            variables = {**variables, "first": None, "last": 7, "cursor": None}
            variables["before"] = info["startCursor"]


async def test_the_grid_item_view_and_tag_list_are_compiled(
    settings: Settings, module_gallery: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered with graphql-core's executor out of the way: the compiled path ran."""
    grid = "{ contentItems(first: 3) { edges { cursor node { id title thumbnail } } } }"
    item = 'query { contentItem(id: "%s") { id tags { name } creator { username } } }'
    async for http in app_client(settings):
        grid_body = (await http.post("/graphql", json={"query": grid})).json()
        first_id = grid_body["data"]["contentItems"]["edges"][0]["node"]["id"]

        async def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("the general executor ran")

        monkeypatch.setattr("strawberry.Schema.execute", refuse)
        assert (await http.post("/graphql", json={"query": grid})).json() == grid_body
        found = (await http.post("/graphql", json={"query": item % first_id})).json()
        assert found["data"]["contentItem"]["id"] == first_id
        tags = "{ tags(first: 3) { edges { cursor node { name itemCount } } } }"
        listed = (await http.post("/graphql", json={"query": tags})).json()
        assert len(listed["data"]["tags"]["edges"]) == 3


def test_the_drawn_requests_were_mostly_answered_with_data() -> None:
    """After the property test (same module, in order): many drawn requests ran without
    errors, so the comparison covered the compiled answers, not only the fallbacks."""
    total = ANSWERS["data"] + ANSWERS["errors"]
    assert ANSWERS["errors"] > 0
    assert ANSWERS["data"] >= 0.4 * total, ANSWERS


async def test_kept_variables_answer_each_viewer_as_the_executor(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], module_gallery: Dataset, settings: Settings
) -> None:
    """The same variables, coerced once and kept by the compiled path, sent by a viewer,
    anonymously and by another viewer: each answer is the executor's."""
    document = (
        "query Mine($creator: CreatorFilter, $n: Int) { contentItems(creator: $creator, "
        "first: $n) { edges { cursor node { id isPrivate } } totalCount { count } } }"
    )
    body = {"query": document, "variables": {"creator": {"scope": "ME"}, "n": 4}}
    fast, slow = both
    for viewer in (module_gallery.users[0], None, module_gallery.users[1], None):
        headers = {"Authorization": f"Bearer {mint_token(viewer, settings)}"} if viewer else {}
        compiled = await fast.post("/graphql", json=body, headers=headers)
        general = await slow.post("/graphql", json=body, headers=headers)
        assert compiled.status_code == general.status_code
        assert compiled.content == general.content


async def test_pages_on_held_connections_answer_alike_after_the_backends_died(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], module_gallery: Dataset, database_url: str
) -> None:
    """The compiled page read runs on a connection held between reads (db/reads.py):
    after the server ended every connection of both apps, each answers as before, alike."""
    document = (
        "query P($cursor: Cursor) { contentItems(first: 5, cursor: $cursor) "
        "{ edges { cursor node { id title tags { name } creator { username } } } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    fast, slow = both
    body: dict[str, Any] = {"query": document, "variables": {"cursor": None}}
    before = (await fast.post("/graphql", json=body)).content
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = 'gallery-gql' AND datname = current_database()"
                )
            )
    finally:
        await admin.dispose()
    for _ in range(3):
        compiled = await fast.post("/graphql", json=body)
        general = await slow.post("/graphql", json=body)
        assert compiled.content == general.content == before
