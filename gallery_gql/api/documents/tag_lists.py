"""Items' `tags` on a compiled page when the tags' selected fields need only each tag's id
and name (`tags { name }`, the gallery's tag chips): one read of the page's distinct tags'
names, each tag rendered once, and each item's list put in name order by integer ranks.

The general executor loads each item's tags whole (`TagSetLoader`: every column, a
`TagRecord` and a `Tag` per distinct tag, a sort by name per item), which was most of a
tagged page's gateway time at full scale (docs/benchmarks.md, "Tag names on a page").
The lists here are the same: tags ordered by name (names are unique, so the order is
total), an id without a tag row left out, a repeated id repeated; and each field's value
is what `Tag` gives for it (`NAME_READERS`, proven field by field in
tests/api/test_tag_lists.py, and whole answers by tests/api/test_compiled_documents.py).
Names are read at each request, so a renamed or new tag shows at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.plans import Compiler, Getter, Selection, completed, selection_sets
from gallery_gql.api.global_id import encode_global_id
from gallery_gql.db.reads import on_held_connection, run_read
from gallery_gql.gallery.lookups import fetch_tag_names

TagName = tuple[UUID, str]
"""A tag as its id and name."""

T = TypeVar("T")


def _global_id(tag: TagName) -> str:
    return encode_global_id("Tag", str(tag[0]))


def _database_id(tag: TagName) -> str:
    return str(tag[0])


NAME_READERS: dict[str, Callable[[TagName], Any]] = {
    "id": _global_id,
    "databaseId": _database_id,
    "name": itemgetter(1),
}
"""GraphQL field name → what `Tag` gives for it (types/tag.py `Tag.__init__`)."""


@dataclass(frozen=True)
class TagNamesPlan:
    """The tags' selected fields, each a getter of a `TagName`."""

    entries: tuple[tuple[str, Getter], ...]

    async def render(
        self, arrays: Sequence[Sequence[UUID]], context: GalleryContext
    ) -> list[list[dict[str, Any]]]:
        """Each item's tags (its tag array given), rendered, in name order."""
        distinct = list(set().union(*arrays))
        if not distinct:
            return [[] for _ in arrays]

        async def read(conn: AsyncConnection) -> dict[UUID, str]:
            return await fetch_tag_names(conn, distinct)

        names = await run_read(context.reads, on_held_connection(read))
        return in_name_order(arrays, names, self.render_one)

    def render_one(self, tag: TagName) -> dict[str, Any]:
        return {key: get(tag) for key, get in self.entries}


def in_name_order(
    arrays: Sequence[Sequence[UUID]], names: Mapping[UUID, str], render: Callable[[TagName], T]
) -> list[list[T]]:
    """Each array's tags in name order, each tag rendered once: an id without a name is
    left out (as the loader leaves out an id without a row), a repeated one repeated.
    Each array's integer ranks are sorted (no key function), not its tags by name."""
    order = sorted(names.items(), key=itemgetter(1))
    rank = {tag[0]: position for position, tag in enumerate(order)}
    rendered = [render(tag) for tag in order]
    return [_ranked(ids, rank, rendered) for ids in arrays]


def _ranked(ids: Sequence[UUID], rank: dict[UUID, int], rendered: list[T]) -> list[T]:
    try:
        ranks = sorted(map(rank.__getitem__, ids))
    except KeyError:
        ranks = sorted(rank[tag_id] for tag_id in ids if tag_id in rank)
    return list(map(rendered.__getitem__, ranks))


def tag_names_plan(compiler: Compiler, selection: Selection) -> TagNamesPlan | None:
    """The plan of a `tags` selection whose fields all read from a tag's id and name;
    None when one needs more (`createdAt`, `itemCount`, a nested list)."""
    parent = compiler.object_type("Tag")
    entries: list[tuple[str, Getter]] = []
    for sub in compiler.collect(parent, selection_sets(selection)):
        if sub.field is None:
            entries.append((sub.key, compiler.leaf(parent, sub)))
            continue
        read = NAME_READERS.get(sub.name)
        if read is None or sub.field.args:
            return None
        entries.append((sub.key, completed(read, sub.field.type)))
    return TagNamesPlan(tuple(entries))
