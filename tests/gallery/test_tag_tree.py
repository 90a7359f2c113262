"""The hierarchy reads and the tag search, against a plain-Python model of small DAGs."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import orjson
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gallery_gql.db.tables import tag_counts, tag_parents, tags
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.tag_search import (
    MAX_TAG_CURSOR_LENGTH,
    TagCursorError,
    TagPosition,
    decode_tag_cursor,
    encode_tag_cursor,
    like_escape,
    search_tags,
)
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.tag_tree import (
    fetch_ancestors,
    fetch_children,
    fetch_descendants,
    fetch_parents,
    fetch_public_counts,
    fetch_roots,
)

# child -> parents. `portrait` is the diamond: two parents sharing the grandparent `art`;
# `cat` has parents under two different roots; `tabby` goes one level deeper.
HIERARCHY: dict[str, tuple[str, ...]] = {
    "art": (),
    "nature": (),
    "misc": (),
    "painting": ("art",),
    "photo": ("art",),
    "animals": ("nature",),
    "plants": ("nature",),
    "oil": ("painting",),
    "portrait": ("painting", "photo"),
    "cat": ("animals", "photo"),
    "tabby": ("cat",),
    "fern": ("plants",),
}


def tag_uuid(name: str) -> UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"tag-graph:{name}")


@dataclass
class Dag:
    """A plain-Python model of what was written: names, edges, and public counts."""

    parents: dict[str, tuple[str, ...]]
    keys: dict[str, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.parents)

    def children(self, name: str) -> list[str]:
        return sorted(c for c, ps in self.parents.items() if name in ps)

    def _reach(self, name: str, step: Mapping[str, Iterable[str]]) -> list[str]:
        seen: set[str] = set()
        todo = list(step[name])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(step[current])
        seen.discard(name)
        return sorted(seen)

    def ancestors(self, name: str) -> list[str]:
        return self._reach(name, self.parents)

    def descendants(self, name: str) -> list[str]:
        return self._reach(name, {n: self.children(n) for n in self.parents})

    def roots(self) -> list[str]:
        return [n for n in self.names if not self.parents[n]]


async def build_dag(
    engine: AsyncEngine,
    hierarchy: Mapping[str, Sequence[str]],
    counts: Mapping[str, Mapping[Source, tuple[int, int]]] | None = None,
) -> Dag:
    """Write tags, edges and (items, private_items) counters; return the model."""
    dag = Dag({name: tuple(ps) for name, ps in hierarchy.items()})
    edges = [
        {"tag_id": tag_uuid(child), "parent_id": tag_uuid(parent)}
        for child, parents in hierarchy.items()
        for parent in parents
    ]
    async with engine.begin() as conn:
        rows = [{"id": tag_uuid(name), "name": name} for name in hierarchy]
        result = await conn.execute(insert(tags).returning(tags.c.name, tags.c.tag_key), rows)
        dag.keys = {row.name: row.tag_key for row in result}
        if edges:
            await conn.execute(insert(tag_parents), edges)
        count_rows = [
            {"tag_key": dag.keys[name], "source": int(s), "items": i, "private_items": p}
            for name, per_source in (counts or {}).items()
            for s, (i, p) in per_source.items()
        ]
        if count_rows:
            await conn.execute(insert(tag_counts), count_rows)
    return dag


def names_by_id(found: Mapping[UUID, Sequence[TagRecord]]) -> dict[UUID, list[str]]:
    return {key: [record.name for record in records] for key, records in found.items()}


Fetch = Callable[[AsyncConnection, Sequence[UUID]], Awaitable[dict[UUID, list[TagRecord]]]]


@pytest.fixture
async def dag(engine: AsyncEngine) -> Dag:
    return await build_dag(engine, HIERARCHY)


async def test_hierarchy_matches_the_model(engine: AsyncEngine, dag: Dag) -> None:
    ids = [tag_uuid(name) for name in dag.names]
    reads: dict[str, tuple[Fetch, Callable[[str], list[str]]]] = {
        "parents": (fetch_parents, lambda n: sorted(dag.parents[n])),
        "children": (fetch_children, dag.children),
        "ancestors": (fetch_ancestors, dag.ancestors),
        "descendants": (fetch_descendants, dag.descendants),
    }
    async with engine.connect() as conn:
        for label, (fetch, model) in reads.items():
            found = names_by_id(await fetch(conn, ids))
            expected = {tag_uuid(name): model(name) for name in dag.names}
            assert found == expected, label


async def test_diamond_yields_the_shared_grandparent_once(engine: AsyncEngine, dag: Dag) -> None:
    async with engine.connect() as conn:
        up = names_by_id(await fetch_ancestors(conn, [tag_uuid("portrait")]))
        down = names_by_id(await fetch_descendants(conn, [tag_uuid("art")]))
    assert up[tag_uuid("portrait")] == ["art", "painting", "photo"]
    assert down[tag_uuid("art")] == ["cat", "oil", "painting", "photo", "portrait", "tabby"]


async def test_unknown_and_empty_keys(engine: AsyncEngine, dag: Dag) -> None:
    missing = uuid.uuid4()
    async with engine.connect() as conn:
        assert await fetch_ancestors(conn, [missing]) == {missing: []}
        assert await fetch_children(conn, []) == {}
        assert await fetch_public_counts(conn, [dag.keys["art"]]) == {dag.keys["art"]: {}}


async def test_a_cycle_terminates_and_excludes_the_tag_itself(engine: AsyncEngine) -> None:
    await build_dag(engine, {"a": ("c",), "b": ("a",), "c": ("b",), "d": ("c",)})
    ids = [tag_uuid(n) for n in "abcd"]
    async with engine.connect() as conn:
        up = names_by_id(await fetch_ancestors(conn, ids))
        down = names_by_id(await fetch_descendants(conn, ids))
        roots = await fetch_roots(conn)
    assert up[tag_uuid("a")] == ["b", "c"]
    assert up[tag_uuid("d")] == ["a", "b", "c"]
    assert down[tag_uuid("a")] == ["b", "c", "d"]
    assert down[tag_uuid("d")] == []
    assert roots == []


async def test_roots(engine: AsyncEngine, dag: Dag) -> None:
    async with engine.connect() as conn:
        assert [r.name for r in await fetch_roots(conn)] == dag.roots() == ["art", "misc", "nature"]


async def test_public_counts_exclude_private_items(engine: AsyncEngine) -> None:
    counts = {
        "a": {Source.REGULAR: (10, 3), Source.AUTO: (5, 1)},
        "b": {Source.AUTO: (2, 2)},
    }
    dag = await build_dag(engine, {"a": (), "b": (), "c": ()}, counts)
    keys = [dag.keys[n] for n in "abc"]
    async with engine.connect() as conn:
        found = await fetch_public_counts(conn, keys)
    assert found == {
        dag.keys["a"]: {Source.REGULAR: 7, Source.AUTO: 4},
        dag.keys["b"]: {Source.AUTO: 0},
        dag.keys["c"]: {},
    }


# -- search ----------------------------------------------------------------------------------
SEARCH_NAMES = ["bobcat", "cat", "catalog", "concatenate", "dog", "scatter", "cattle"]


async def search_all(engine: AsyncEngine, search: str | None, first: int) -> list[str]:
    names: list[str] = []
    after: TagPosition | None = None
    async with engine.connect() as conn:
        while True:
            page = await search_tags(conn, search, after, first)
            names.extend(record.name for _, record in page.hits)
            if not page.has_next:
                return names
            after = page.hits[-1][0]


async def test_prefix_matches_rank_first(engine: AsyncEngine) -> None:
    await build_dag(engine, dict.fromkeys(SEARCH_NAMES, ()))
    expected = ["cat", "catalog", "cattle", "bobcat", "concatenate", "scatter"]
    for first in (1, 2, 4, 100):
        assert await search_all(engine, "cat", first) == expected
    assert await search_all(engine, "CaT", 3) == expected
    assert await search_all(engine, None, 3) == sorted(SEARCH_NAMES)
    assert await search_all(engine, "", 3) == sorted(SEARCH_NAMES)
    assert await search_all(engine, "zebra", 3) == []


async def test_search_metacharacters_are_literal(engine: AsyncEngine) -> None:
    names = ["100%", "1000", "a_b", "axb", "back\\slash", "backslash", "worm's-eye", "worms"]
    await build_dag(engine, dict.fromkeys(names, ()))
    cases = {
        "%": ["100%"],
        "0%": ["100%"],
        "_": ["a_b"],
        "a_b": ["a_b"],
        "\\": ["back\\slash"],
        "k\\s": ["back\\slash"],
        "'": ["worm's-eye"],
        "%%": [],
    }
    for search, expected in cases.items():
        assert await search_all(engine, search, 5) == expected, search


def test_like_escape() -> None:
    assert like_escape("a%b_c\\d") == "a\\%b\\_c\\\\d"


# -- cursors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["cat", "worm's-eye", "100%", "ünïcødé 猫", "x" * 255, "\N{GRINNING FACE}" * 255]
)
def test_cursor_round_trip(name: str) -> None:
    for rank in (0, 1):
        position = TagPosition(rank, name)
        assert decode_tag_cursor(encode_tag_cursor(position)) == position


def _b64(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "a",
        "A" * (MAX_TAG_CURSOR_LENGTH + 4),  # well-formed base64, too long
        _b64(b"not json"),
        _b64(orjson.dumps({"rank": 0, "name": "cat"})),
        _b64(orjson.dumps([0])),
        _b64(orjson.dumps([0, "cat", 1])),
        _b64(orjson.dumps([2, "cat"])),
        _b64(orjson.dumps([-1, "cat"])),
        _b64(orjson.dumps(["0", "cat"])),
        _b64(orjson.dumps([True, "cat"])),
        _b64(orjson.dumps([0.0, "cat"])),
        _b64(orjson.dumps([0, 5])),
        _b64(orjson.dumps([0, ""])),
        _b64(orjson.dumps([0, "x" * 256])),
        _b64(orjson.dumps([0, "a\x00b"])),
        _b64(b'[0, "cat"]'),  # valid JSON, but not the encoding we issue
        _b64(orjson.dumps([0, "cat"])) + "==",
        base64.b64encode(orjson.dumps([0, "c?t>"])).decode(),  # standard alphabet
        _b64(b"\xff\xfe"),
    ],
)
def test_bad_cursors_are_rejected(token: str) -> None:
    with pytest.raises(TagCursorError):
        decode_tag_cursor(token)
