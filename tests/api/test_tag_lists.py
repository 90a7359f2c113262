"""Items' `tags` rendered from their ids and names (api/documents/tag_lists.py) are what
the general executor gives: each field as `Tag` gives it, each list in the loader's order
(against a plain model), and whole pages and item views byte for byte, on tags renamed
at random between requests and after a new tag is put on an item."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.api.documents.plans import Compiler, completed
from gallery_gql.api.documents.tag_lists import NAME_READERS, in_name_order
from gallery_gql.api.global_id import decode_global_id, decode_item_key, item_global_id
from gallery_gql.api.schema import build_schema
from gallery_gql.api.types.tag import Tag
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.records import TagRecord
from gallery_gql.gallery.writes.tag_admin import create_tag
from gallery_gql.gallery.writes.tag_refs import TagRef
from gallery_gql.gallery.writes.tagging import Retag
from gallery_gql.settings import Settings
from tests.api.conftest import app_client
from tests.factories import Dataset, retag_locked, write_transaction

SCHEMA = build_schema(Settings(secret="s" * 32))
TAG_TYPE = SCHEMA._schema.get_type("Tag")
assert isinstance(TAG_TYPE, GraphQLObjectType)
COMPILER = Compiler(SCHEMA._schema, {}, SCHEMA.config.name_converter)
TAG_FIELDS = TAG_TYPE.fields
NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
"""Tag names as PostgreSQL keeps them (no NUL, no lone surrogates)."""


@pytest.mark.parametrize("name", sorted(NAME_READERS))
@given(tag_id=st.uuids(), tag_name=NAMES)
def test_a_field_from_id_and_name_is_the_tags_field(name: str, tag_id: UUID, tag_name: str) -> None:
    field = TAG_FIELDS[name]
    record = TagRecord(tag_id, 1, tag_name, {}, datetime.now(UTC), datetime.now(UTC))
    from_tag = completed(COMPILER.resolver("Tag", name), field.type)(Tag(record=record))
    assert completed(NAME_READERS[name], field.type)((tag_id, tag_name)) == from_tag


def _loaders_lists(arrays: list[list[UUID]], names: dict[UUID, str]) -> list[list[str]]:
    """`TagSetLoader`'s lists, as names: each array's known tags sorted by name."""
    return [sorted(names[t] for t in ids if t in names) for ids in arrays]


@given(data=st.data())
def test_lists_are_the_loaders(data: st.DataObject) -> None:
    ids = data.draw(st.lists(st.uuids(), min_size=1, max_size=30, unique=True))
    drawn = data.draw(st.lists(NAMES, min_size=len(ids), max_size=len(ids), unique=True))
    names = dict(zip(ids, drawn, strict=True))
    unknown = data.draw(st.lists(st.uuids(), max_size=3))
    arrays = data.draw(st.lists(st.lists(st.sampled_from(ids + unknown), max_size=40), max_size=25))
    rendered: list[tuple[UUID, str]] = []

    def render(tag: tuple[UUID, str]) -> dict[str, str]:
        rendered.append(tag)
        return {"name": tag[1]}

    kept = {t: names[t] for t in ids if t not in unknown}
    lists = in_name_order(arrays, kept, render)
    assert [[tag["name"] for tag in tags] for tags in lists] == _loaders_lists(arrays, kept)
    assert len(rendered) == len(set(rendered)) == len(kept)  # each tag rendered once


# -- whole answers, against the general executor -------------------------------------------
PAGE = (
    "query P($n: Int) { contentItems(first: $n) { edges { node { id "
    "tags { name } k: tags { __typename i: id databaseId name n2: name } } } } }"
)
ITEM = 'query { contentItem(id: "%s") { tags { name id } } }'


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


async def _alike(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], body: dict[str, Any]
) -> dict[str, Any]:
    fast, slow = both
    compiled = await fast.post("/graphql", json=body)
    general = await slow.post("/graphql", json=body)
    assert compiled.status_code == general.status_code == 200
    assert compiled.content == general.content
    answer: dict[str, Any] = compiled.json()
    assert "errors" not in answer
    return answer


def _names_shown(answer: dict[str, Any]) -> set[str]:
    edges = answer["data"]["contentItems"]["edges"]
    return {tag["name"] for edge in edges for tag in edge["node"]["tags"]}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_pages_of_renamed_tags_answer_as_the_executor(
    data: st.DataObject,
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    module_gallery: Dataset,
    database_url: str,
) -> None:
    """Every tag renamed at random (the order by name shuffled), then a page and an item
    view: the compiled answers are the executor's, and show the new names."""
    tags = module_gallery.tags
    names = data.draw(st.lists(NAMES, min_size=len(tags), max_size=len(tags), unique=True))
    admin = create_async_engine(database_url)
    try:
        async with admin.begin() as conn:
            # Two steps, so that no new name meets an old one still kept (names are unique).
            for tag_id in tags:
                await conn.execute(
                    text("UPDATE tags SET name = :name WHERE id = :id"),
                    {"name": f"renaming {tag_id}", "id": tag_id},
                )
            for tag_id, name in zip(tags, names, strict=True):
                await conn.execute(
                    text("UPDATE tags SET name = :name WHERE id = :id"),
                    {"name": name, "id": tag_id},
                )
    finally:
        await admin.dispose()
    page = await _alike(
        both, {"query": PAGE, "variables": {"n": data.draw(st.sampled_from([5, 25]))}}
    )
    assert _names_shown(page) <= set(names)
    key = ItemKey(data.draw(st.sampled_from(list(Source))), data.draw(st.integers(1, 30)))
    await _alike(both, {"query": ITEM % item_global_id(key)})


async def test_tag_names_are_compiled(
    settings: Settings,
    module_gallery: Dataset,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Answered with graphql-core's executor out of the way: the compiled path ran."""

    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the general executor ran")

    async for http in app_client(settings):
        monkeypatch.setattr("strawberry.Schema.execute", refuse)
        page = (await http.post("/graphql", json={"query": PAGE, "variables": {"n": 25}})).json()
        assert _names_shown(page) <= set(await _tag_names(database_url))
        monkeypatch.undo()


async def _tag_names(database_url: str) -> list[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text("SELECT name FROM tags"))).scalars())
    finally:
        await engine.dispose()


async def test_a_new_tag_put_on_an_item_shows_on_the_next_page(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], module_gallery: Dataset, database_url: str
) -> None:
    body = {"query": PAGE, "variables": {"n": 25}}
    first = await _alike(both, body)
    _, item_id = decode_global_id(first["data"]["contentItems"]["edges"][0]["node"]["id"])
    key = decode_item_key(item_id)
    engine = create_async_engine(database_url)
    name = f"new {uuid.uuid4()}"
    try:
        record = await write_transaction(engine, lambda conn: create_tag(conn, name))
        change = Retag(key, add=frozenset({TagRef(record.tag_key, record.id)}))
        await write_transaction(engine, lambda conn: retag_locked(conn, [change]))
    finally:
        await engine.dispose()
    assert name in _names_shown(await _alike(both, body))
    item = await _alike(both, {"query": ITEM % item_global_id(key)})
    assert name in {tag["name"] for tag in item["data"]["contentItem"]["tags"]}
