"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification has it.

Every answer is JSON with coded errors, those made before GraphQL runs included. With
`Accept: application/graphql-response+json` a request that never executes is a 4xx with
no `data`; with `application/json` (and no `Accept`) parse, validation, operation and
variable failures stay 200, still without `data`. Queries come by GET or POST, mutations
by POST only. Nothing refused here reaches the database.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.api.conftest import CountingApp, serve_counting
from tests.web.support import serve_in_thread

GRAPHQL_RESPONSE = "application/graphql-response+json"
MEDIA = {
    "graphql-response": (GRAPHQL_RESPONSE, f"{GRAPHQL_RESPONSE}; charset=utf-8"),
    "json": ("application/json", "application/json"),
}
JSON_BODY = {"content-type": "application/json"}


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


def http(app: CountingApp) -> httpx.AsyncClient:
    return app.gql.http


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The response's only error, after checking the body is an errors-only JSON object."""
    body = response.json()
    assert set(body) == {"errors"}, body
    (error,) = body["errors"]
    assert error["message"], error
    return error  # type: ignore[no-any-return]


def assert_media(response: httpx.Response, media: str) -> None:
    assert response.headers["content-type"] == MEDIA[media][1]


# -- requests that are not well-formed: 400, whichever the media type --------------------
MALFORMED_BODIES = {
    "null": b"null",
    "number": b"123",
    "string": b'"{ __typename }"',
    "batch": b'[{"query": "{ __typename }"}]',
    "not JSON": b'{ "not a JSON',
    "empty": b"",
    "query missing": b'{"qeury": "{ __typename }"}',
    "query null": b'{"query": null}',
    "query empty": b'{"query": ""}',
    "query number": b'{"query": 0}',
    "query object": b'{"query": {"obj": "ect"}}',
    "query array": b'{"query": ["{ __typename }"]}',
    "query boolean": b'{"query": false}',
    "operationName number": b'{"query": "{ __typename }", "operationName": 0}',
    "operationName object": b'{"query": "{ __typename }", "operationName": {}}',
    "variables string": b'{"query": "{ __typename }", "variables": "{}"}',
    "variables array": b'{"query": "{ __typename }", "variables": [7]}',
    "variables number": b'{"query": "{ __typename }", "variables": 0}',
    "extensions string": b'{"query": "{ __typename }", "extensions": "x"}',
    "extensions boolean": b'{"query": "{ __typename }", "extensions": false}',
    "deeply nested": b'{"query": "{ __typename }", "variables": {"a": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}}",
}


@pytest.mark.parametrize("media", MEDIA)
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES)
async def test_a_malformed_request_is_400_with_a_coded_error(
    counting_app: CountingApp, body: bytes, media: str
) -> None:
    headers = {**JSON_BODY, "accept": MEDIA[media][0]}
    response = await http(counting_app).post("/graphql", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert_media(response, media)
    assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}
    assert counting_app.statements == []


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=latin-1",
    ],
)
async def test_a_body_that_is_not_json_utf8_is_415(
    counting_app: CountingApp, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await http(counting_app).post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
    )
    assert response.status_code == 415
    assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
async def test_json_with_its_charset_is_accepted(
    counting_app: CountingApp, content_type: str
) -> None:
    response = await http(counting_app).post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"content-type": content_type}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


# -- media types -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/*", "json"),
        ("application/json", "json"),
        (GRAPHQL_RESPONSE, "graphql-response"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", "graphql-response"),  # Apollo Client
        (f"{GRAPHQL_RESPONSE};charset=utf-8, application/json;charset=utf-8", "graphql-response"),
        (f"application/json, {GRAPHQL_RESPONSE}", "json"),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "json"),
        ("text/html, */*;q=0.8", "json"),  # a browser
        ("text/plain;q=0.1, " * 30 + GRAPHQL_RESPONSE, "graphql-response"),  # not cached
    ],
)
async def test_the_response_media_type_follows_accept(
    counting_app: CountingApp, accept: str | None, media: str
) -> None:
    headers = {"accept": accept} if accept else {}
    response = await http(counting_app).post(
        "/graphql", json={"query": "{ __typename }"}, headers=headers
    )
    assert response.status_code == 200
    assert_media(response, media)
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", f"{GRAPHQL_RESPONSE};q=0", "application/json;q=0"]
)
async def test_nothing_acceptable_is_406(counting_app: CountingApp, accept: str) -> None:
    response = await http(counting_app).post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": accept}
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json"
    assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}


# -- request errors: 400 without data, or 200 without data for application/json ----------
REQUEST_ERRORS: dict[str, tuple[dict[str, Any], str]] = {
    "syntax": ({"query": "{"}, "GRAPHQL_VALIDATION_FAILED"),
    "unknown field": ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    "unknown operationName": (
        {"query": "query A { __typename }", "operationName": "B"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "several operations, no operationName": (
        {"query": "query A { __typename } query B { viewer { id } }"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "no operation": (
        {"query": "fragment F on Query { __typename }"},
        "OPERATION_RESOLUTION_FAILURE",
    ),
    "variable of the wrong type": (
        {"query": "query ($id: ID!) { contentItem(id: $id) { id } }", "variables": {"id": 5.5}},
        "BAD_USER_INPUT",
    ),
    "variable missing": (
        {"query": "query ($id: ID!) { contentItem(id: $id) { id } }"},
        "BAD_USER_INPUT",
    ),
    "page size out of bounds": (
        {
            "query": "query ($n: Int) { tags(first: $n) { edges { cursor } } }",
            "variables": {"n": 0},
        },
        "BAD_USER_INPUT",
    ),
}


@pytest.mark.parametrize(("media", "status"), [("graphql-response", 400), ("json", 200)])
@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS.values(), ids=list(REQUEST_ERRORS))
async def test_a_request_error_has_no_data(
    counting_app: CountingApp, payload: dict[str, Any], code: str, media: str, status: int
) -> None:
    response = await http(counting_app).post(
        "/graphql", json=payload, headers={"accept": MEDIA[media][0]}
    )
    assert response.status_code == status, response.text
    assert_media(response, media)
    assert error_of(response)["extensions"]["code"] == code
    assert counting_app.statements == []


async def test_several_operations_run_the_one_named(counting_app: CountingApp) -> None:
    document = "query A { a: __typename } query B { b: __typename }"
    for name in ("A", "B"):
        response = await http(counting_app).post(
            "/graphql", json={"query": document, "operationName": name}
        )
        assert response.json() == {"data": {name.lower(): "Query"}}


@pytest.mark.parametrize("media", MEDIA)
async def test_an_operation_that_ran_is_200_with_its_data(
    counting_app: CountingApp, media: str
) -> None:
    """Field errors do not make a request error: partial data, or data null when the
    error reached a non-null root field."""
    accept = {"accept": MEDIA[media][0]}
    partial = await http(counting_app).post(
        "/graphql",
        json={"query": '{ tag(id: "x", name: "y") { id } viewer { id } }'},
        headers=accept,
    )
    assert partial.status_code == 200
    assert partial.json()["data"] == {"tag": None, "viewer": None}
    assert partial.json()["errors"][0]["path"] == ["tag"]
    root_null = await http(counting_app).post(
        "/graphql",
        json={"query": '{ contentItems(cursor: "YQ") { edges { cursor } } }'},
        headers=accept,
    )
    assert root_null.status_code == 200
    body = root_null.json()
    assert "data" in body
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- GET ---------------------------------------------------------------------------------
async def test_a_query_by_get(counting_app: CountingApp) -> None:
    response = await http(counting_app).get(
        "/graphql",
        params={
            "query": "query Q($n: Int) { tags(first: $n) { edges { cursor } } } "
            "query R { r: __typename }",
            "variables": '{"n": 2}',
            "operationName": "Q",
            "extensions": "{}",
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert_media(response, "graphql-response")
    assert response.json() == {"data": {"tags": {"edges": []}}}


@pytest.mark.parametrize("media", MEDIA)
@pytest.mark.parametrize(
    "params",
    [
        {"query": 'mutation { deleteContent(input: {id: "x"}) { errors { code } } }'},
        {"query": "query A { __typename } mutation B { __typename }", "operationName": "B"},
    ],
)
async def test_a_mutation_by_get_is_405(
    counting_app: CountingApp, params: dict[str, str], media: str
) -> None:
    response = await http(counting_app).get(
        "/graphql", params=params, headers={"accept": MEDIA[media][0]}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert_media(response, media)
    assert error_of(response)["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert counting_app.statements == []


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{ __typename }", "variables": "{not json"},
        {"query": "{ __typename }", "variables": "[1]"},
        {"query": "{ __typename }", "extensions": "5"},
        {"query": ["{ __typename }", "{ viewer { id } }"]},
        {},
    ],
    ids=["variables not JSON", "variables array", "extensions number", "query twice", "none"],
)
async def test_a_malformed_get_is_400(counting_app: CountingApp, params: dict[str, Any]) -> None:
    response = await http(counting_app).get(
        "/graphql", params=params, headers={"accept": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}


async def test_subscriptions_are_not_served_over_http(counting_app: CountingApp) -> None:
    response = await http(counting_app).post(
        "/graphql", json={"query": "subscription { __typename }"}
    )
    assert response.status_code == 400
    assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}


# -- the rest of the endpoint ------------------------------------------------------------
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(counting_app: CountingApp, method: str) -> None:
    response = await http(counting_app).request(
        method, "/graphql", json={"query": "{ __typename }"}
    )
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert error_of(response)["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


async def test_an_unknown_path_is_a_coded_404(counting_app: CountingApp) -> None:
    response = await http(counting_app).get("/graphq")
    assert response.status_code == 404
    assert error_of(response)["extensions"] == {"code": "NOT_FOUND"}


@pytest.mark.parametrize("media", MEDIA)
async def test_a_bad_token_is_401_in_the_accepted_media_type(
    counting_app: CountingApp, media: str
) -> None:
    response = await http(counting_app).post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"authorization": "Bearer nope", "accept": MEDIA[media][0]},
    )
    assert response.status_code == 401
    assert_media(response, media)
    assert error_of(response)["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_graphiql_is_shown_to_browsers_in_development_only(settings: Settings) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with serve_counting(settings.model_copy(update={"graphiql": True})) as app:
        page = await http(app).get("/graphql", headers=browser)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
    async with serve_counting(settings.model_copy(update={"environment": "production"})) as app:
        response = await http(app).get("/graphql", headers=browser)
        assert response.status_code == 400
        assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}


def test_websockets_still_speak_graphql_transport_ws(settings: Settings) -> None:
    """The router answers HTTP itself; WebSocket connections stay strawberry's."""
    with (
        serve_in_thread(create_app(settings)) as url,
        connect(
            url.replace("http", "ws") + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=10,
        ) as socket,
    ):

        def exchange(message: dict[str, Any]) -> Any:
            socket.send(orjson.dumps(message).decode())
            return orjson.loads(socket.recv(timeout=10))

        assert exchange({"type": "connection_init"}) == {"type": "connection_ack"}
        subscribe = {"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}}
        refused = exchange(subscribe)  # queries go by HTTP (tests/live)
        assert (refused["type"], refused["id"]) == ("error", "1")
        assert refused["payload"][0]["extensions"] == {"code": "BAD_REQUEST"}
