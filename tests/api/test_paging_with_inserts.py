"""Keyset paging stays exact while the data changes under it.

A walk of pages of 7 through a filtered result, with writes between pages: items
inserted before the cursor (newer/higher than everything, or inside the visited range)
never show up, items inserted after it show up exactly once, and deleting the cursor's
own item does not break the walk (a keyset does not need its row to exist).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.db.tables import CONTENT_TABLES
from gallery_gql.gallery.keys import Source
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, Dataset, add_items, build_gallery, item_row, sync_derived
from tests.model import ModelItem, ModelQuery, expected, load_items

SIZE = 7
WALK = """
query Walk($tags: [ID!], $sort: ContentSort!, $after: Cursor) {
  contentItems(tags: $tags, sort: $sort, first: 7, after: $after) {
    edges { node { source databaseId } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
SORTS = ["NEWEST", "TOP_RATED"]  # both descending: "after the cursor" means "smaller"
Key = tuple[str, int]
Value = datetime | float
Between = Callable[[list[Key]], Awaitable[None]]
Plan = dict[str, list[tuple[Source, Value | None]]]  # category → where to insert


@dataclass
class Scene:
    engine: AsyncEngine
    dataset: Dataset
    sort: str
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    hidden: set[Key] = field(default_factory=set)
    shown: set[Key] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def tag(self) -> Any:
        return self.dataset.tags[1]  # on about 60% of the items

    @property
    def query(self) -> ModelQuery:
        return ModelQuery(tags=(self.tag,), sort=self.sort)

    def value(self, item: ModelItem) -> Value:
        return item.created_at if self.sort == "NEWEST" else item.quality_score

    async def items(self) -> dict[Key, ModelItem]:
        return {(i.source, i.id): i for i in await load_items(self.engine)}

    async def order(self) -> list[Key]:
        return expected(list((await self.items()).values()), self.query)

    def row(self, value: Value, *, tagged: bool = True) -> dict[str, object]:
        row = item_row(self.rng, self.dataset, [0.0] * len(self.dataset.tags))
        row.update(is_private=False, tags=[self.tag] if tagged else [self.dataset.tags[2]])
        if self.sort == "NEWEST":
            row["created_at"] = value
        else:
            row["quality_score"] = value
            row["created_at"] = BASE_TIME + timedelta(seconds=self.rng.randrange(3600))
        return row

    async def insert(self, rows: list[tuple[Source, dict[str, object]]]) -> set[Key]:
        """Insert rows (derived tables not yet synced); their new keys."""
        new: set[Key] = set()
        for source, table in CONTENT_TABLES.items():
            async with self.engine.connect() as conn:
                last = (await conn.execute(select(func.max(table.c.id)))).scalar_one() or 0
            await add_items(self.engine, Source(source), [r for s, r in rows if s == source])
            async with self.engine.connect() as conn:
                ids = (await conn.execute(select(table.c.id).where(table.c.id > last))).scalars()
                new |= {(Source(source).name, item_id) for item_id in ids}
        return new


@pytest.fixture(params=SORTS)
async def scene(request: pytest.FixtureRequest, engine: AsyncEngine) -> Scene:
    dataset = await build_gallery(engine, regular=40, auto=80)
    return Scene(engine, dataset, request.param)


async def _walk(gql: GraphQLClient, scene: Scene, between: Between) -> list[Key]:
    """Every page to the end, calling `between` (with the keys so far) between pages."""
    seen: list[Key] = []
    after = None
    for number in range(60):
        variables = {"tags": [str(scene.tag)], "sort": scene.sort, "after": after}
        data = (await gql.data(WALK, variables))["contentItems"]
        seen.extend((e["node"]["source"], e["node"]["databaseId"]) for e in data["edges"])
        assert data["pageInfo"]["hasPreviousPage"] == (number > 0)
        if not data["pageInfo"]["hasNextPage"]:
            return seen
        assert len(data["edges"]) == SIZE
        after = data["pageInfo"]["endCursor"]
        await between(seen)
    pytest.fail("paging did not end")


def _midpoint(high: Value, low: Value) -> Value | None:
    """A value strictly between `low` and `high`, if there is one."""
    if isinstance(high, datetime):
        assert isinstance(low, datetime)
        middle: Value = low + (high - low) / 2
    else:
        assert isinstance(low, float)
        middle = (high + low) / 2
    return middle if low < middle < high else None  # type: ignore[operator]


def _beyond(value: Value, direction: int) -> Value:
    """A value past `value` (up for 1, down for -1), or the column's bound (a score is
    between 0 and 1: ties are then broken by source and id)."""
    if isinstance(value, datetime):
        return value + direction * timedelta(days=1, microseconds=1)
    return 1.0 if direction > 0 else value / 2


async def _insert_around_cursor(scene: Scene, seen: list[Key]) -> None:
    """Insert items on both sides of the cursor (the last key seen), and check that each
    one is where it is meant to be: (value, source) against the cursor's, since a new id
    is larger than every id already in its source."""
    items = await scene.items()
    order = await scene.order()
    cursor = items[seen[-1]]
    at, source = scene.value(cursor), Source[cursor.source]
    top, bottom = scene.value(items[order[0]]), scene.value(items[order[-1]])
    before_cursor: Plan = {
        "newer than everything": [(Source.AUTO, _beyond(top, 1))],
        "inside the visited range": [(Source.REGULAR, _midpoint(top, at))],
        "tied with the cursor, larger id": [(source, at)],
    }
    after_cursor: Plan = {
        "inside the unvisited range": [(Source.AUTO, _midpoint(at, bottom))],
        "tied with the cursor, smaller source": [(Source.REGULAR, at)]
        if source is Source.AUTO
        else [],
        "at the far end": [(Source.REGULAR, _beyond(bottom, -1))],
    }
    if (bottom, int(Source.REGULAR)) >= (at, int(source)):  # the cursor is the far end
        after_cursor["at the far end"] = []
    sides = ((before_cursor, scene.hidden, False), (after_cursor, scene.shown, True))
    for groups, target, is_after in sides:
        rows: list[tuple[Source, dict[str, object]]] = []
        others: list[tuple[Source, dict[str, object]]] = []
        for category, planned in groups.items():
            for place, value in planned:
                if value is None:
                    continue
                assert ((value, int(place)) < (at, int(source))) == is_after, category
                scene.categories[category] += 1
                rows.append((place, scene.row(value)))
                others.append((place, scene.row(value, tagged=False)))  # never matches
        await scene.insert(others)
        target |= await scene.insert(rows)
    await sync_derived(scene.engine)


async def test_inserts_between_pages(gql: GraphQLClient, scene: Scene) -> None:
    initial = await scene.order()
    assert len(initial) > 5 * SIZE
    walked = await _walk(gql, scene, lambda seen: _insert_around_cursor(scene, seen))

    assert [key for key, n in Counter(walked).items() if n > 1] == []
    assert set(initial) <= set(walked)
    assert scene.shown <= set(walked)
    assert scene.hidden.isdisjoint(walked)
    assert walked == [key for key in await scene.order() if key not in scene.hidden]
    assert len(scene.categories) == 6, scene.categories  # every kind of insert happened
    assert len(scene.shown) >= 10
    assert len(scene.hidden) >= 10


async def _delete(scene: Scene, keys: list[Key]) -> None:
    async with scene.engine.begin() as conn:
        for source, item_id in keys:
            table = CONTENT_TABLES[Source[source]]
            await conn.execute(delete(table).where(table.c.id == item_id))
    await sync_derived(scene.engine)


async def test_deleting_the_cursor_item_between_pages(gql: GraphQLClient, scene: Scene) -> None:
    initial = await scene.order()
    deleted_unseen: list[Key] = []

    async def between(seen: list[Key]) -> None:
        order = await scene.order()
        cursor = seen[-1]
        doomed = [cursor]
        if len(seen) // SIZE % 2 == 0:  # every other page, also the next page's first item
            following = order[order.index(cursor) + 1 :]
            doomed += following[:1]
            deleted_unseen.extend(following[:1])
        await _delete(scene, doomed)

    walked = await _walk(gql, scene, between)
    assert deleted_unseen
    assert walked == [key for key in initial if key not in deleted_unseen]
