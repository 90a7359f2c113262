"""Tag queries over GraphQL: hierarchy fields, itemCount, autocomplete, lookup, and the
statement count of a page of tags (it must not grow with the page size)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api.global_id import encode_global_id
from gallery_gql.gallery.keys import Source
from tests.api.conftest import CountingApp
from tests.conftest import GraphQLClient
from tests.gallery.test_tag_tree import HIERARCHY, Dag, build_dag, tag_uuid

HIERARCHY_QUERY = """
query Hierarchy($first: Int!) {
  tags(first: $first) {
    edges { node { name parents { name } children { name } ancestors { name }
                   descendants { name } } }
  }
}
"""

SEARCH_QUERY = """
query Search($search: String, $first: Int!, $cursor: Cursor, $after: Cursor) {
  tags(search: $search, first: $first, cursor: $cursor, after: $after) {
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def names(tags: list[dict[str, Any]]) -> list[str]:
    return [tag["name"] for tag in tags]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


# -- hierarchy -------------------------------------------------------------------------------
async def test_hierarchy_fields_match_the_model(engine: AsyncEngine, gql: GraphQLClient) -> None:
    dag = await build_dag(engine, HIERARCHY)
    data = await gql.data(HIERARCHY_QUERY, {"first": 100})
    nodes = [edge["node"] for edge in data["tags"]["edges"]]
    assert names(nodes) == dag.names
    for node in nodes:
        name = node["name"]
        assert names(node["parents"]) == sorted(dag.parents[name]), name
        assert names(node["children"]) == dag.children(name), name
        assert names(node["ancestors"]) == dag.ancestors(name), name
        assert names(node["descendants"]) == dag.descendants(name), name


async def test_diamond_ancestors_contain_the_grandparent_once(
    engine: AsyncEngine, gql: GraphQLClient
) -> None:
    await build_dag(engine, HIERARCHY)
    query = '{ tag(name: "portrait") { parents { name } ancestors { name } } }'
    tag = (await gql.data(query))["tag"]
    assert names(tag["parents"]) == ["painting", "photo"]
    assert names(tag["ancestors"]) == ["art", "painting", "photo"]


async def test_tag_roots(engine: AsyncEngine, gql: GraphQLClient) -> None:
    dag = await build_dag(engine, HIERARCHY)
    data = await gql.data("{ tagRoots { name children { name } } }")
    assert names(data["tagRoots"]) == dag.roots()
    assert [names(r["children"]) for r in data["tagRoots"]] == [
        dag.children(r) for r in dag.roots()
    ]


# -- itemCount -------------------------------------------------------------------------------
async def test_item_count_counts_public_items_per_source(
    engine: AsyncEngine, gql: GraphQLClient
) -> None:
    counts = {
        "a": {Source.REGULAR: (10, 3), Source.AUTO: (5, 1)},
        "b": {Source.AUTO: (2, 2)},
    }
    await build_dag(engine, {"a": (), "b": (), "c": ()}, counts)
    query = """{ tags(first: 10) { edges { node { name
        both: itemCount
        regular: itemCount(sources: [REGULAR])
        auto: itemCount(sources: [AUTO])
        explicit: itemCount(sources: [AUTO, REGULAR, AUTO])
        none: itemCount(sources: [])
    } } } }"""
    data = await gql.data(query)
    found = {e["node"].pop("name"): e["node"] for e in data["tags"]["edges"]}
    assert found == {
        "a": {"both": 11, "regular": 7, "auto": 4, "explicit": 11, "none": 0},
        "b": {"both": 0, "regular": 0, "auto": 0, "explicit": 0, "none": 0},
        "c": {"both": 0, "regular": 0, "auto": 0, "explicit": 0, "none": 0},
    }


# -- lookup ----------------------------------------------------------------------------------
async def test_tag_by_uuid_global_id_and_name(engine: AsyncEngine, gql: GraphQLClient) -> None:
    await build_dag(engine, HIERARCHY)
    raw = str(tag_uuid("cat"))
    query = "query ($id: ID, $name: String) { tag(id: $id, name: $name) { id databaseId name } }"
    global_id = encode_global_id("Tag", raw)
    expected = {"id": global_id, "databaseId": raw, "name": "cat"}
    assert (await gql.data(query, {"id": raw}))["tag"] == expected
    assert (await gql.data(query, {"id": global_id}))["tag"] == expected
    assert (await gql.data(query, {"name": "cat"}))["tag"] == expected
    assert (await gql.data(query, {"name": "Cat"}))["tag"] is None
    assert (await gql.data(query, {"name": "x" * 300}))["tag"] is None
    assert (await gql.data(query, {"name": "a\x00b"}))["tag"] is None
    assert (await gql.data(query, {"id": str(tag_uuid("nope"))}))["tag"] is None


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"id": "x", "name": "cat"},
        {"id": "not an id"},
        {"id": encode_global_id("User", str(tag_uuid("cat")))},
        {"id": encode_global_id("Tag", "not-a-uuid")},
    ],
)
async def test_tag_lookup_rejects_bad_arguments(
    gql: GraphQLClient, variables: dict[str, Any]
) -> None:
    query = "query ($id: ID, $name: String) { tag(id: $id, name: $name) { name } }"
    body = await gql.post(query, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["data"] == {"tag": None}


# -- autocomplete ----------------------------------------------------------------------------
async def page_through(
    gql: GraphQLClient, search: str | None, first: int, argument: str = "cursor"
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every name, in order, following endCursor (passed as `argument`: `cursor` or Relay's
    `after`); also each page's pageInfo."""
    seen: list[str] = []
    infos: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        variables = {"search": search, "first": first, argument: cursor}
        connection = (await gql.data(SEARCH_QUERY, variables))["tags"]
        edges, info = connection["edges"], connection["pageInfo"]
        seen.extend(edge["node"]["name"] for edge in edges)
        infos.append(info)
        if edges:
            assert info["endCursor"] == edges[-1]["cursor"]
        if not info["hasNextPage"]:
            return seen, infos
        cursor = info["endCursor"]


def ranked(all_names: list[str], search: str) -> list[str]:
    """The model: case-insensitive substring matches, prefix matches first, then by name."""
    needle = search.lower()
    hits = [n for n in all_names if needle in n.lower()]
    return sorted(hits, key=lambda n: (not n.lower().startswith(needle), n))


SEARCH_NAMES = [
    *(f"ab{c}{d}" for c in "cdefg" for d in "xyz"),
    *(f"{c}ab{d}" for c in "xyz" for d in "mnop"),
    *(f"{c}{d}ab" for c in "qr" for d in "st"),
    "ab",
    "bcd",
    "cdab",
    "zzz",
]


@pytest.mark.parametrize("argument", ["cursor", "after"])
@pytest.mark.parametrize("first", [1, 4, 7, 100])
async def test_paging_through_search_results(
    engine: AsyncEngine, gql: GraphQLClient, first: int, argument: str
) -> None:
    await build_dag(engine, dict.fromkeys(SEARCH_NAMES, ()))
    for search in ("ab", "AB", "b", "zz", "nothing"):
        seen, infos = await page_through(gql, search, first, argument)
        assert seen == ranked(SEARCH_NAMES, search), search
        assert len(seen) == len(set(seen))
        assert infos[0]["hasPreviousPage"] is False
        assert all(info["hasPreviousPage"] for info in infos[1:])
    seen, _ = await page_through(gql, None, first, argument)
    assert seen == sorted(SEARCH_NAMES)


async def test_cursor_and_after_are_one_argument(engine: AsyncEngine, gql: GraphQLClient) -> None:
    await build_dag(engine, dict.fromkeys(["ab", "abc", "abd"], ()))
    first = (await gql.data(SEARCH_QUERY, {"search": "ab", "first": 1}))["tags"]
    other = (await gql.data(SEARCH_QUERY, {"search": "ab", "first": 2}))["tags"]
    end, later = first["pageInfo"]["endCursor"], other["pageInfo"]["endCursor"]
    same = await gql.data(SEARCH_QUERY, {"search": "ab", "first": 1, "cursor": end, "after": end})
    assert names([e["node"] for e in same["tags"]["edges"]]) == ["abc"]
    body = await gql.post(SEARCH_QUERY, {"search": "ab", "first": 1, "cursor": end, "after": later})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["tags"]


async def test_prefix_matches_rank_before_substring_matches(
    engine: AsyncEngine, gql: GraphQLClient
) -> None:
    await build_dag(engine, dict.fromkeys(["bobcat", "cat", "scatter", "catalog", "dog"], ()))
    seen, _ = await page_through(gql, "cat", 20)
    assert seen == ["cat", "catalog", "bobcat", "scatter"]


async def test_search_metacharacters_are_literal(engine: AsyncEngine, gql: GraphQLClient) -> None:
    all_names = ["100%", "1000", "a_b", "axb", "back\\slash", "backslash", "worm's-eye", "worms"]
    await build_dag(engine, dict.fromkeys(all_names, ()))
    for search in ["%", "0%", "_", "a_b", "\\", "k\\s", "'", "worm's", "%_\\", "%%", "a%b"]:
        seen, _ = await page_through(gql, search, 3)
        assert seen == ranked(all_names, search), search


def _b64(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "variables",
    [
        {"cursor": "garbage!"},
        {"cursor": _b64(b"{}")},
        {"cursor": _b64(orjson.dumps([7, "ab"]))},
        {"cursor": _b64(orjson.dumps([0, "ab"])) + "x"},
        {"cursor": "A" * 5000},
        {"first": 0},
        {"first": 101},
        {"first": -5},
        {"search": "a" * 101},
        {"search": "a\x00b"},
    ],
)
async def test_bad_search_arguments(
    engine: AsyncEngine, gql: GraphQLClient, variables: dict[str, Any]
) -> None:
    await build_dag(engine, dict.fromkeys(["ab", "abc"], ()))
    body = await gql.post(SEARCH_QUERY, {"first": 5, **variables})
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["_status"] == 200
    assert body.get("data") is None


async def test_tampered_cursor_is_bad_input(engine: AsyncEngine, gql: GraphQLClient) -> None:
    await build_dag(engine, dict.fromkeys(["ab", "abc", "abd"], ()))
    data = await gql.data(SEARCH_QUERY, {"search": "ab", "first": 1})
    cursor = data["tags"]["pageInfo"]["endCursor"]
    for tampered in (cursor[:-1], cursor + "A", cursor[::-1], cursor.upper()):
        body = await gql.post(SEARCH_QUERY, {"search": "ab", "first": 1, "cursor": tampered})
        assert error_codes(body) == ["BAD_USER_INPUT"], tampered


async def test_search_at_the_length_limit(engine: AsyncEngine, gql: GraphQLClient) -> None:
    await build_dag(engine, {"a" * 100: (), "b": ()})
    seen, _ = await page_through(gql, "a" * 100, 5)
    assert seen == ["a" * 100]


async def test_paging_past_the_longest_names(engine: AsyncEngine, gql: GraphQLClient) -> None:
    """A tag cursor holds the whole name: names of four-byte characters page too."""
    longest = ["a" + "\N{GRINNING FACE}" * 254, "b" + "\N{CJK UNIFIED IDEOGRAPH-732B}" * 254, "c"]
    await build_dag(engine, dict.fromkeys(longest, ()))
    seen, _ = await page_through(gql, None, 1)
    assert seen == longest


# -- statement count -------------------------------------------------------------------------
def wide_hierarchy() -> Iterator[tuple[str, tuple[str, ...]]]:
    """4 roots, 20 categories, 80 leaves with two parents each (diamonds everywhere)."""
    roots = [f"root{r}" for r in range(4)]
    categories = [f"cat{c:02d}" for c in range(20)]
    yield from ((root, ()) for root in roots)
    yield from ((c, (roots[i % 4],)) for i, c in enumerate(categories))
    for leaf in range(80):
        yield f"leaf{leaf:02d}", (categories[leaf % 20], categories[(leaf * 7 + 1) % 20])


PAGE_QUERY = """
query Page($first: Int!) {
  tags(first: $first) {
    edges { node { name parents { name } children { name } ancestors { name }
                   descendants { name } itemCount } }
  }
}
"""


async def test_statement_count_does_not_grow_with_page_size(
    engine: AsyncEngine, counting_app: CountingApp
) -> None:
    hierarchy = dict(wide_hierarchy())
    counts = {name: {Source.REGULAR: (3, 1), Source.AUTO: (5, 0)} for name in hierarchy}
    dag: Dag = await build_dag(engine, hierarchy, counts)
    used: dict[int, int] = {}
    for first in (5, 50, 100):
        counting_app.statements.clear()
        data = await counting_app.gql.data(PAGE_QUERY, {"first": first})
        edges = data["tags"]["edges"]
        assert len(edges) == first
        for edge in edges:
            node = edge["node"]
            assert names(node["ancestors"]) == dag.ancestors(node["name"])
            assert names(node["descendants"]) == dag.descendants(node["name"])
            assert node["itemCount"] == 7
        used[first] = len(counting_app.statements)
    # one search + one each for parents, children, ancestors, descendants and counts
    assert used == {5: 6, 50: 6, 100: 6}, counting_app.statements


async def test_default_page_size(engine: AsyncEngine, gql: GraphQLClient) -> None:
    await build_dag(engine, {f"t{n:02d}": () for n in range(25)})
    for args in ("", "(first: null)"):
        data = await gql.data(f"{{ tags{args} {{ edges {{ node {{ name }} }} }} }}")
        assert len(data["tags"]["edges"]) == 20, args
