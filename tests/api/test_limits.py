"""Request and document limits: each rejected before any SQL runs, with a typed error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import get_introspection_query

from gallery_gql.settings import Settings
from tests.api.conftest import CountingApp, serve_counting


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


class App:
    def __init__(self, counting: CountingApp) -> None:
        self.http = counting.gql.http
        self.statements = counting.statements

    async def query(self, query: str, variables: dict[str, object] | None = None) -> httpx.Response:
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}})


@pytest.fixture
async def dev(settings: Settings) -> AsyncIterator[App]:
    async with serve_counting(settings) as app:
        yield App(app)


@pytest.fixture
async def prod(settings: Settings) -> AsyncIterator[App]:
    production = settings.model_copy(
        update={
            "environment": "production",
            "rate_limit": "5/minute",
            "cors_origins": ["https://gallery.example"],
        }
    )
    async with serve_counting(production) as app:
        yield App(app)


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_oversized_body_is_413(dev: App) -> None:
    response = await dev.query("{ viewer { username } }" + " " * (1024 * 1024))
    assert response.status_code == 413
    assert _code(response) == "BAD_USER_INPUT"


async def test_non_utf8_body_is_400(dev: App) -> None:
    response = await dev.http.post(
        "/graphql", content=b'{"query": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert _code(response) == "BAD_REQUEST"
    # Refused before GraphQL runs, in the media type asked for: no `data`.
    spec = "application/graphql-response+json"
    response = await dev.http.post(
        "/graphql",
        content=b'{"query": "\xff"}',
        headers={"content-type": "application/json", "accept": spec},
    )
    assert response.headers["content-type"].startswith(spec)
    assert response.json() == {
        "errors": [
            {
                "message": "the request body is not valid UTF-8",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


async def test_non_json_body_is_a_client_error(dev: App) -> None:
    response = await dev.http.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "document",
    [
        "{ tags { edges { node { parents { parents { parents { parents { parents { parents {"
        " parents { parents { parents { name } } } } } } } } } } } } }",
        "{ " + " ".join(f"a{n}: viewer {{ username }}" for n in range(16)) + " }",
        "{ viewer { username } " + " ".join("__typename" for _ in range(2100)) + " }",
        "{ contentItems(first: 100) { edges { node { tags { children { children { children"
        " { name } } } } } } } }",
    ],
    ids=["depth", "aliases", "tokens", "cost"],
)
async def test_document_limits_reject_before_sql(dev: App, document: str) -> None:
    response = await dev.query(document)
    assert response.status_code in (200, 400)
    body = response.json()
    assert body["errors"]
    assert not body.get("data")
    assert dev.statements == []


async def test_cost_counts_variables(dev: App) -> None:
    query = """query ($n: Int) { contentItems(first: $n) { edges { node {
        tags { children { name } } } } } }"""
    small = await dev.query(query, {"n": 2})
    assert "errors" not in small.json()
    large = await dev.query(query, {"n": 100})
    assert _code(large) == "BAD_USER_INPUT"
    assert large.json()["errors"][0]["extensions"]["cost"] > 50_000


async def test_graphiql_introspection_passes_the_limits(dev: App) -> None:
    response = await dev.query(get_introspection_query(descriptions=True))
    assert "errors" not in response.json()
    assert (await dev.http.get("/graphql", headers={"accept": "text/html"})).status_code == 200


async def test_production_hides_introspection_suggestions_and_graphiql(prod: App) -> None:
    introspection = await prod.query("{ __schema { types { name } } }")
    assert "errors" in introspection.json()
    typo = await prod.query("{ contentItemz { edges { cursor } } }")
    assert "Did you mean" not in typo.text
    page = await prod.http.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()


async def test_rate_limit_answers_429_with_retry_after(prod: App) -> None:
    statuses = [(await prod.query("{ viewer { username } }")).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    limited = await prod.query("{ viewer { username } }")
    assert int(limited.headers["Retry-After"]) >= 1
    assert _code(limited) == "RATE_LIMITED"


async def test_cors_allows_only_listed_origins(prod: App) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {"origin": origin, "access-control-request-method": "POST"}

    allowed = await prod.http.options("/graphql", headers=preflight("https://gallery.example"))
    assert allowed.headers.get("access-control-allow-origin") == "https://gallery.example"
    denied = await prod.http.options("/graphql", headers=preflight("https://evil.example"))
    assert "access-control-allow-origin" not in denied.headers


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", {}),
        ("{ viewer { username " + "@include(if: true) " * 1000 + "} }", {}),
        (
            "query ($t: [ID!]) { contentItems(tags: $t) { edges { cursor } } }",
            {"t": [f"00000000-0000-0000-0000-{n:012d}" for n in range(10_000)]},
        ),
    ],
    ids=["circular-fragments", "directive-bomb", "10k-tag-variable"],
)
async def test_hostile_documents_get_typed_errors(
    dev: App, document: str, variables: dict[str, object]
) -> None:
    response = await dev.query(document, variables)
    assert response.status_code in (200, 400, 413)
    errors = response.json()["errors"]
    assert errors
    assert all(
        e["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT") for e in errors
    )
    assert dev.statements == []


async def test_comment_padding_is_bounded_by_the_body_limit(dev: App) -> None:
    padded = await dev.query("#" + "x" * 200_000 + "\n{ viewer { username } }")
    assert padded.status_code == 200
    assert padded.json() == {"data": {"viewer": None}}
    huge = await dev.query("#" + "x" * 2_000_000 + "\n{ viewer { username } }")
    assert huge.status_code == 413
