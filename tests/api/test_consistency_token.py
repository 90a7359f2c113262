"""The consistency token: issued after writes, read back from a header, bad ones refused."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.api import consistency
from gallery_gql.auth import mint_token
from gallery_gql.db.lsn import format_lsn, parse_lsn
from gallery_gql.settings import Settings
from tests.factories import build_gallery

CREATE = """mutation($input: CreateContentInput!) {
  createContent(input: $input) { item { id } errors { code } }
}"""
PAGE = "{ contentItems(first: 1) { edges { cursor } } }"
NEW_ITEM = {"title": "t", "contentType": "image", "contentData": "/d", "prompt": "p"}


async def test_a_write_returns_the_primarys_position_and_reads_accept_it(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    dataset = await build_gallery(engine, regular=2, auto=2)
    headers = {"Authorization": f"Bearer {mint_token(dataset.users[0], settings)}"}
    variables = {
        "input": {"title": "t", "contentType": "image", "contentData": "/d", "prompt": "p"}
    }
    read = await client.post("/graphql", json={"query": PAGE}, headers=headers)
    assert "consistency" not in read.json().get("extensions", {})  # reads issue no token

    wrote = await client.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=headers
    )
    token = wrote.json()["extensions"]["consistency"]["token"]
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql("SELECT pg_current_wal_insert_lsn()::text")
        now = str(result.scalar())
    assert 0 < parse_lsn(token) <= parse_lsn(now)
    assert format_lsn(parse_lsn(token)) == token

    again = await client.post(
        "/graphql", json={"query": PAGE}, headers={"X-Consistency-Token": token}
    )
    assert again.status_code == 200
    assert "errors" not in again.json()


async def test_a_malformed_consistency_token_is_bad_input(client: httpx.AsyncClient) -> None:
    for bad in ["yesterday", "0/", "1/2/3", "G/0", "0/" + "F" * 40, "-1/0"]:
        response = await client.post(
            "/graphql", json={"query": PAGE}, headers={"X-Consistency-Token": bad}
        )
        assert response.status_code == 400, bad
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "X-Consistency-Token" in error["message"]


async def test_a_committed_write_whose_position_cannot_be_read_still_succeeds(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failing the mutation after its commit would invite a duplicate retry: it succeeds
    without a token, and the rest of the request reads from the primary."""
    dataset = await build_gallery(engine, regular=2, auto=2)
    headers = {"Authorization": f"Bearer {mint_token(dataset.users[0], settings)}"}
    monkeypatch.setattr(consistency, "_WRITE_POSITION", text("SELECT 1 / 0"))
    variables = {
        "input": {"title": "t", "contentType": "image", "contentData": "/d", "prompt": "p"}
    }
    wrote = await client.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=headers
    )
    body = wrote.json()
    assert "errors" not in body
    assert body["data"]["createContent"]["item"]["id"]
    assert "consistency" not in body.get("extensions", {})
