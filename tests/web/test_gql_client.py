"""The Python `gql` client against the served app on loopback, as a Python user of the API
would drive it: the schema fetched by introspection (development) and documents checked
against it locally, pages walked with `$first: Int` and `$after: Cursor`, and errors
carrying their code in either response media type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.web.support import seed_gallery, serve_in_thread

PAGE = gql(
    """
    query Page($first: Int, $after: Cursor) {
      contentItems(first: $first, after: $after) {
        edges { node { id title } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
)


def page(**variables: Any) -> GraphQLRequest:
    return GraphQLRequest(PAGE, variable_values=variables)


ACCEPT = {
    "application/json": "application/json",
    "application/graphql-response+json": "application/graphql-response+json, application/json",
}


@pytest.fixture(scope="module")
async def gallery_url(module_database_url: str) -> str:
    await seed_gallery(module_database_url, regular=15, auto=30)
    return module_database_url


@pytest.fixture
def database_url(gallery_url: str) -> str:
    return gallery_url


@pytest.fixture
def url(settings: Settings) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as base:
        yield f"{base}/graphql"


def _client(url: str, accept: str, fetch_schema: bool = True) -> Client:
    transport = HTTPXAsyncTransport(url=url, headers={"Accept": accept}, timeout=10)
    return Client(transport=transport, fetch_schema_from_transport=fetch_schema)


@pytest.fixture(params=list(ACCEPT))
async def session(request: pytest.FixtureRequest, url: str) -> AsyncIterator[Any]:
    async with _client(url, ACCEPT[request.param]) as session:
        yield session


async def test_pages_walk_with_int_page_sizes(session: Any) -> None:
    everything = await session.execute(page(first=100))
    expected = [edge["node"]["id"] for edge in everything["contentItems"]["edges"]]
    assert len(expected) > 10
    walked: list[str] = []
    after = None
    for _ in range(50):
        connection = (await session.execute(page(first=4, after=after)))["contentItems"]
        walked += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert walked == expected


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "BAD_USER_INPUT"),
        ({"first": 101}, "BAD_USER_INPUT"),
        ({"first": 5, "after": "not a cursor!"}, "BAD_USER_INPUT"),
    ],
)
async def test_errors_reach_the_client_with_their_code(
    session: Any, variables: dict[str, Any], code: str
) -> None:
    with pytest.raises(TransportQueryError) as raised:
        await session.execute(page(**variables))
    assert raised.value.errors is not None
    assert [error["extensions"]["code"] for error in raised.value.errors] == [code]
    assert raised.value.data is None


async def test_production_refuses_introspection_but_serves_documents(
    settings: Settings,
) -> None:
    production = settings.model_copy(update={"environment": "production"})
    with serve_in_thread(create_app(production)) as base:
        with pytest.raises(TransportQueryError) as raised:
            async with _client(f"{base}/graphql", ACCEPT["application/json"]):
                pass
        assert raised.value.errors is not None
        assert raised.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        async with _client(f"{base}/graphql", ACCEPT["application/json"], False) as session:
            result = await session.execute(page(first=2))
        assert len(result["contentItems"]["edges"]) == 2
