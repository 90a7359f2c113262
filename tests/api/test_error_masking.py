"""Unexpected errors are masked with a request id; deliberate ones keep their message."""

from __future__ import annotations

import logging

import pytest

from gallery_gql.api.queries import content
from tests.conftest import GraphQLClient

PAGE = "{ contentItems(first: 1) { edges { cursor } } }"
LEAKY = 'asyncpg.exceptions.UndefinedTableError: relation "x" — SELECT * FROM secrets'


async def test_internal_errors_are_masked_and_logged(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError(LEAKY)

    monkeypatch.setattr(content, "fetch_page", broken)
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
