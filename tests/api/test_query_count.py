"""N+1 guard: a contentItems page costs a fixed number of SQL statements, whatever its
size, because items, creators and tags each load in one batched statement."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.app import create_app
from gallery_gql.db.generic_sessions import GenericSessions
from gallery_gql.db.reads import HeldConnections
from gallery_gql.db.tables import metadata
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import build_gallery
from tests.model import ModelQuery, expected, load_items

PAGE = """
query Page($tags: [ID!], $first: Int, $after: Cursor) {
  contentItems(tags: $tags, first: $first, after: $after) {
    edges {
      cursor
      node { id title thumbnail creator { username } tags { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TABLES = tuple(metadata.tables)
PAGE_MARKERS = ("AS part", "AS matching")  # the walks' statement, a matching set's
KINDS = {
    "resolve tags": "FROM tags LEFT OUTER JOIN tag_counts",
    "items": ".prompt, ",
    "creators": "FROM users",
    "tags": "FROM tags \nWHERE tags.id = ANY",
}
# The page statement reads its items too; the items loader's statement is for `node`.
TAGGED = Counter(["resolve tags", "page", "creators", "tags"])
UNTAGGED = TAGGED - Counter(["resolve tags"])  # 3 statements, as tagged within the TTL


def _kind(statement: str) -> str:
    if any(marker in statement for marker in PAGE_MARKERS):  # it reads the items' columns too
        return "page"
    found = [kind for kind, marker in KINDS.items() if marker in statement]
    assert len(found) == 1, statement
    return found[0]


class Statements:
    """SQL statements the app's engine runs; only those naming one of our tables count
    (connection setup names none)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)

    def kinds(self) -> Counter[str]:
        return Counter(_kind(s) for s in self.seen if any(table in s for table in TABLES))


class Counted:
    def __init__(self, gql: GraphQLClient, statements: Statements) -> None:
        self.gql = gql
        self.statements = statements

    async def run(self, **variables: Any) -> tuple[Counter[str], dict[str, Any]]:
        """(the kinds of statement the request ran, its contentItems)."""
        self.statements.seen.clear()
        data = (await self.gql.data(PAGE, variables))["contentItems"]
        return self.statements.kinds(), data


@pytest.fixture
async def counted(settings: Settings) -> AsyncIterator[Counted]:
    """Tags resolved on every request (no reuse), so every count below is the worst case."""
    async with _counted(settings.model_copy(update={"tag_stats_ttl_seconds": 0})) as c:
        yield c


@asynccontextmanager
async def _counted(settings: Settings) -> AsyncIterator[Counted]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        statements = Statements()
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", statements)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Counted(GraphQLClient(http), statements)


@pytest.fixture
async def tag(engine: AsyncEngine) -> str:
    """A tag on well over 60 public items, in both sources."""
    dataset = await build_gallery(engine)
    matching = expected(await load_items(engine), ModelQuery(tags=(dataset.tags[0],)))
    assert len(matching) >= 120
    assert {source for source, _ in matching[:60]} == {"REGULAR", "AUTO"}
    return str(dataset.tags[0])


def _check_page(data: dict[str, Any], size: int) -> None:
    edges = data["edges"]
    assert len(edges) == size
    assert all(e["cursor"] and e["node"]["thumbnail"] for e in edges)
    assert all(e["node"]["creator"]["username"] and e["node"]["tags"] for e in edges)


async def test_page_size_does_not_change_the_statement_count(counted: Counted, tag: str) -> None:
    """resolve tags, page (with its items), creators, tags: 4 statements for 2, 10 or 60 items
    (the first request runs on a cold pool and costs the same)."""
    for size in (2, 10, 60):
        kinds, data = await counted.run(tags=[tag], first=size)
        _check_page(data, size)
        assert kinds == TAGGED, (size, counted.statements.seen)


async def test_cursor_and_untagged_pages(counted: Counted, tag: str) -> None:
    """A cursor adds no statement (the edge probe rides in the page statement); without
    a tag filter nothing needs resolving: 3 statements."""
    _, first = await counted.run(tags=[tag], first=10)
    for size in (2, 60):
        kinds, data = await counted.run(
            tags=[tag], first=size, after=first["pageInfo"]["endCursor"]
        )
        _check_page(data, size)
        assert kinds == TAGGED, (size, counted.statements.seen)
    _, untagged = await counted.run(first=10)
    for size in (2, 10, 60):
        kinds, data = await counted.run(first=size)
        _check_page(data, size)
        assert kinds == UNTAGGED, (size, counted.statements.seen)
        kinds, data = await counted.run(first=size, after=untagged["pageInfo"]["endCursor"])
        _check_page(data, size)
        assert kinds == UNTAGGED, (size, counted.statements.seen)


async def test_tag_resolution_is_reused_within_its_ttl(
    settings: Settings, engine: AsyncEngine
) -> None:
    """Within the TTL a tag already resolved costs no statement; a tag not seen yet does."""
    dataset = await build_gallery(engine)
    first, second = (str(tag) for tag in dataset.tags[:2])
    async with _counted(settings.model_copy(update={"tag_stats_ttl_seconds": 3600})) as c:
        assert (await c.run(tags=[first], first=5))[0] == TAGGED
        assert (await c.run(tags=[first], first=5))[0] == UNTAGGED
        assert (await c.run(tags=[first, second], first=5))[0] == TAGGED
        assert (await c.run(tags=[second], first=5))[0] == UNTAGGED


async def test_a_page_takes_one_connection_per_batch(
    settings: Settings, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page, its tag resolution and its items share one connection; creators and
    tags add one each (their loaders batch concurrently, so they cannot share). The
    compiled path's page read may run on a connection its engine holds between reads
    (db/reads.py) instead of a checkout: both are counted. A page read as one matching set
    (the tag here is rare) runs its statement on a generic-plan session
    (db/generic_sessions.py), counted apart, and so does the read of the page's tag names
    (`lookups.fetch_tag_names`)."""
    app = create_app(settings)
    lent: list[object] = []
    sessions: list[object] = []
    take = HeldConnections.take
    take_session = GenericSessions.take

    def counted_take(self: HeldConnections) -> object:
        conn = take(self)
        if conn is not None:
            lent.append(conn)
        return conn

    async def counted_session(self: GenericSessions) -> object:
        conn = await take_session(self)
        sessions.append(conn)
        return conn

    monkeypatch.setattr(HeldConnections, "take", counted_take)
    monkeypatch.setattr(GenericSessions, "take", counted_session)
    async with LifespanManager(app) as manager:
        event.listen(app.state.engine.sync_engine.pool, "checkout", lambda *a: lent.append(a))
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            gql = GraphQLClient(http)
            grid = "query($t: [ID!]) { contentItems(tags: $t) { edges { node { id title } } } }"
            await gql.data(grid, {"t": [tag]})  # the session opened (a checkout) once
            for query, wanted, generic in ((grid, 1, 1), (PAGE, 3, 2), (grid, 1, 1)):
                lent.clear()
                sessions.clear()
                await gql.data(query, {"t": [tag]} if query is grid else {"tags": [tag]})
                assert len(lent) == wanted, query
                assert len(sessions) == generic, query
                assert None not in sessions, query


async def test_the_tag_array_is_read_only_when_asked(counted: Counted, tag: str) -> None:
    """The items' tag arrays (~77 UUIDs each, most of a page's decoding) are read by the
    page statement only when the query selects `tags` on its nodes."""
    grid = "query($t: [ID!]) { contentItems(tags: $t) { edges { node { id title } } } }"
    for query, reads_tags in ((grid, False), (PAGE, True)):
        counted.statements.seen.clear()
        await counted.gql.data(query, {"t": [tag]} if query is grid else {"tags": [tag]})
        (page,) = [
            s for s in counted.statements.seen if any(marker in s for marker in PAGE_MARKERS)
        ]
        assert ("AS tags" in page) is reads_tags
