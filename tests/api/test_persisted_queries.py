"""Documents sent by hash: Apollo's automatic persisted queries (APQ) and the trusted
documents, and the HTTP caching of an anonymous persisted query sent by GET."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gallery_gql.api.documents.manifest import document_hash, trusted_documents
from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.api.conftest import app_client
from tests.factories import Dataset

QUERY = "query Two { contentItems(first: 2) { edges { node { id title } } } }"
QUERY_HASH = hashlib.sha256(QUERY.encode()).hexdigest()


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


@pytest.fixture
async def gallery(module_gallery: Dataset) -> Dataset:
    return module_gallery


@pytest.fixture
async def http(settings: Settings, gallery: Dataset) -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(settings):
        yield client


@pytest.fixture
async def trusted_only(settings: Settings, gallery: Dataset) -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(settings.model_copy(update={"trusted_documents_only": True})):
        yield client


def persisted(digest: str = QUERY_HASH, **extra: Any) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **extra}


def get_params(body: dict[str, Any]) -> dict[str, str]:
    return {
        key: value if isinstance(value, str) else orjson.dumps(value).decode()
        for key, value in body.items()
    }


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"errors"}, body
    (error,) = body["errors"]
    return error  # type: ignore[no-any-return]


async def test_an_unknown_hash_is_not_found_then_registered_by_the_apollo_flow(
    http: httpx.AsyncClient,
) -> None:
    missing = await http.post("/graphql", json=persisted())
    assert missing.status_code == 404
    assert only_error(missing) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    registered = await http.post("/graphql", json=persisted(query=QUERY))
    plain = await http.post("/graphql", json={"query": QUERY})
    assert registered.status_code == 200
    assert registered.content == plain.content
    by_hash = await http.post("/graphql", json=persisted())
    assert by_hash.content == plain.content
    by_get = await http.get("/graphql", params=get_params(persisted()))
    assert by_get.content == plain.content


async def test_a_hash_that_is_not_the_querys_is_refused_and_registers_nothing(
    http: httpx.AsyncClient,
) -> None:
    other = "0" * 64
    refused = await http.post("/graphql", json=persisted(other, query=QUERY))
    assert refused.status_code == 400
    error = only_error(refused)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "does not match" in error["message"]
    assert (await http.post("/graphql", json=persisted(other))).status_code == 404


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": "x"},
        {"persistedQuery": {"version": 2, "sha256Hash": QUERY_HASH}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": {"version": 1, "sha256Hash": QUERY_HASH.upper()}},
        {"persistedQuery": {"version": 1, "sha256Hash": QUERY_HASH[:-1]}},
    ],
)
async def test_a_malformed_persisted_query_is_a_bad_request(
    http: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    response = await http.post("/graphql", json={"extensions": extensions})
    assert response.status_code == 400
    assert only_error(response)["extensions"]["code"] == "BAD_REQUEST"


async def test_the_store_is_bounded_in_entries_and_length(
    settings: Settings, gallery: Dataset
) -> None:
    bounded = settings.model_copy(
        update={"persisted_queries_max": 2, "persisted_query_max_bytes": 200}
    )
    texts = [f"query Q{n} {{ __typename }}" for n in range(3)]
    long_text = "query Long { __typename }" + " " * 200
    async for http in app_client(bounded):
        for text in [*texts, long_text]:
            response = await http.post("/graphql", json=persisted(document_hash(text), query=text))
            assert response.json() == {"data": {"__typename": "Query"}}
        found = [
            (await http.post("/graphql", json=persisted(document_hash(text)))).status_code
            for text in [*texts, long_text]
        ]
        # The oldest went first; the long one ran but was never kept.
        assert found == [404, 200, 200, 404]


async def test_trusted_documents_run_by_hash_without_registration(
    http: httpx.AsyncClient,
) -> None:
    digest, text = next((d, t) for d, t in trusted_documents().items() if "query TagSearch" in t)
    by_hash = await http.post("/graphql", json=persisted(digest, variables={"search": "t"}))
    in_full = await http.post("/graphql", json={"query": text, "variables": {"search": "t"}})
    assert by_hash.status_code == 200
    assert by_hash.content == in_full.content
    assert "errors" not in by_hash.json()


async def test_trusted_only_runs_the_manifest_and_nothing_else(
    trusted_only: httpx.AsyncClient,
) -> None:
    digest, text = next((d, t) for d, t in trusted_documents().items() if "query TagSearch" in t)
    for body in (persisted(digest), {"query": text}, persisted(digest, query=text)):
        response = await trusted_only.post("/graphql", json={**body, "variables": {}})
        assert response.status_code == 200, response.text
    for body in ({"query": QUERY}, persisted(query=QUERY)):
        refused = await trusted_only.post("/graphql", json=body)
        assert refused.status_code == 403
        assert only_error(refused)["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    # ... and what was refused was not registered either.
    assert (await trusted_only.post("/graphql", json=persisted())).status_code == 404


# -- HTTP caching of GET -------------------------------------------------------------------
async def test_an_anonymous_persisted_get_is_cacheable_and_revalidates(
    http: httpx.AsyncClient,
) -> None:
    await http.post("/graphql", json=persisted(query=QUERY))
    first = await http.get("/graphql", params=get_params(persisted()))
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=5"
    assert first.headers["vary"] == "Accept, Authorization"
    etag = first.headers["etag"]
    again = await http.get(
        "/graphql", params=get_params(persisted()), headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await http.get(
        "/graphql", params=get_params(persisted()), headers={"If-None-Match": '"other"'}
    )
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_never_cacheable_a_token_errors_or_a_document_in_full(
    http: httpx.AsyncClient, settings: Settings, gallery: Dataset
) -> None:
    await http.post("/graphql", json=persisted(query=QUERY))
    token = mint_token(gallery.users[0], settings)
    signed_in = await http.get(
        "/graphql",
        params=get_params(persisted()),
        headers={"Authorization": f"Bearer {token}"},
    )
    in_full = await http.get("/graphql", params={"query": QUERY})
    bad = "query Bad($n: Int) { contentItems(first: $n) { edges { cursor } } }"
    await http.post("/graphql", json=persisted(document_hash(bad), query=bad))
    error = await http.get(
        "/graphql", params=get_params(persisted(document_hash(bad), variables={"n": 0}))
    )
    missing = await http.get("/graphql", params=get_params(persisted("1" * 64)))
    for response in (signed_in, in_full, error, missing):
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers
    assert signed_in.status_code == 200
    assert "errors" in error.json()
    assert missing.status_code == 404
    post = await http.post("/graphql", json=persisted())
    assert "cache-control" not in post.headers


async def test_the_max_age_is_a_setting(settings: Settings, gallery: Dataset) -> None:
    async for http in app_client(settings.model_copy(update={"get_max_age_seconds": 0})):
        await http.post("/graphql", json=persisted(query=QUERY))
        response = await http.get("/graphql", params=get_params(persisted()))
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["etag"]
