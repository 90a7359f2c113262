"""Unexpected errors are masked with a request id; deliberate ones keep their message."""

from __future__ import annotations

import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager

import gallery_gql.app as app_module
from gallery_gql.api.queries import content_page
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient

PAGE = "{ contentItems(first: 1) { edges { cursor } } }"
LEAKY = 'asyncpg.exceptions.UndefinedTableError: relation "x" — SELECT * FROM secrets'


async def test_internal_errors_are_masked_and_logged(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError(LEAKY)

    monkeypatch.setattr(content_page, "fetch_page", broken)
    monkeypatch.setattr(content_page, "fetch_page_rows", broken)  # the compiled path's read
    with caplog.at_level(logging.ERROR, logger="gallery_gql.errors"):
        body = await gql.post(PAGE)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    assert "SELECT" not in str(body)
    assert "asyncpg" not in str(body)
    assert any(request_id in record.getMessage() and record.exc_info for record in caplog.records)


async def test_validation_errors_stay_readable(gql: GraphQLClient) -> None:
    body = await gql.post("{ contentItems(first: 1) { edges { nope } } }")
    error = body["errors"][0]
    assert "nope" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_deliberate_errors_keep_their_code_and_message(gql: GraphQLClient) -> None:
    body = await gql.post('{ contentItems(tags: ["not-a-tag"]) { edges { cursor } } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "invalid id 'not-a-tag'"
    assert error["path"] == ["contentItems"]


async def test_scalar_errors_keep_their_code_and_message(gql: GraphQLClient) -> None:
    body = await gql.post("{ contentItems(first: 0) { edges { cursor } } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "a page size is a whole number from 1 to 100"
    assert "path" not in error


async def test_failures_before_execution_are_json_and_masked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error in the context getter (before GraphQL runs) still answers in
    the API's error shape, not Starlette's plain-text 500."""

    async def broken(*_: object) -> None:
        raise RuntimeError(LEAKY)

    monkeypatch.setattr(app_module, "load_viewer", broken)
    app = app_module.create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            with caplog.at_level(logging.ERROR, logger="gallery_gql.app"):
                response = await http.post("/graphql", json={"query": PAGE})
    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "SELECT" not in response.text
    assert "asyncpg" not in response.text
    request_id = error["message"].removeprefix("internal server error (request id ")[:-1]
    assert len(request_id) == 32
    assert any(request_id in record.getMessage() and record.exc_info for record in caplog.records)


async def test_a_crash_before_execution_is_masked(gql: GraphQLClient) -> None:
    """Strawberry's depth limiter converts integer literals with int(): 5,000 digits
    raise Python's own message, which must not reach the client."""
    body = await gql.post("{ contentItems(first: %s) { edges { cursor } } }" % ("9" * 5000))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "digits" not in str(body)
    assert "sys." not in str(body)
