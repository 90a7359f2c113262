"""Apollo Client (`@apollo/client/core`, pinned in conformance/package-lock.json) against
the served app on loopback, as a JavaScript app drives it: pages fetched forward with
`fetchMore` and merged by a normalizing cache, automatic persisted queries by `GET`, and a
bad argument reported with its code. conformance/apollo.mjs prints what it saw; without
Node.js or the installed package the test is skipped, saying why."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from gallery_gql.app import create_app
from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset
from tests.web.support import (
    CONFORMANCE,
    requires_conformance,
    seed_gallery,
    serve_in_thread,
)

PAGE_SIZE = 4
EVERYTHING = "query ($first: Int) { contentItems(first: $first) { edges { node { id } } } }"


@pytest.fixture
async def gallery(module_database_url: str) -> Dataset:
    return await seed_gallery(module_database_url, regular=10, auto=20)


@pytest.fixture
def database_url(gallery: Dataset, module_database_url: str) -> str:
    return module_database_url


@pytest.fixture
def report(settings: Settings, gallery: Dataset) -> dict[str, Any]:
    """What conformance/apollo.mjs saw of the app served on loopback, signed in as the
    admin (who may retitle any item)."""
    admin = mint_token(gallery.users[0], settings)
    script = str(CONFORMANCE / "apollo.mjs")
    with serve_in_thread(create_app(settings)) as url:
        run = subprocess.run(
            ["node", script, f"{url}/graphql", str(PAGE_SIZE), admin],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@requires_conformance("@apollo/client")
async def test_apollo_client_pages_persists_and_reports_codes(
    report: dict[str, Any], gql: GraphQLClient
) -> None:
    everything = await gql.data(EVERYTHING, {"first": 100})
    expected = [edge["node"]["id"] for edge in everything["contentItems"]["edges"]]
    assert len(expected) > 3 * PAGE_SIZE

    # Three pages in a row, neither repeating nor skipping; the cache merges and
    # normalizes them by id.
    assert report["pages"] == [expected[n * PAGE_SIZE : (n + 1) * PAGE_SIZE] for n in range(3)]
    assert report["merged"] == expected[: 3 * PAGE_SIZE]
    assert sorted(report["cachedItems"]) == sorted(
        f'ContentItem:{{"id":"{item}"}}' for item in expected[: 3 * PAGE_SIZE]
    )

    # APQ: the hash alone by GET is unknown, the link sends it with the query, which
    # registers it; the next ask is served by the hash alone, by GET.
    persisted = report["persisted"]
    assert persisted["first"] == persisted["second"] == expected[:3]
    requests = persisted["requests"]
    assert [(r["method"], r["query"], r["status"], r["codes"]) for r in requests] == [
        ("GET", False, 404, ["PERSISTED_QUERY_NOT_FOUND"]),
        ("POST", True, 200, []),
        ("GET", False, 200, []),
    ]
    assert len({r["hash"] for r in requests}) == 1
    assert len(requests[0]["hash"]) == 64

    # A bad page size arrives as an ApolloError with the gateway's code.
    error = report["error"]
    assert error["name"] == "ApolloError"
    assert error["graphQLErrorCodes"] == ["BAD_USER_INPUT"]

    # The mutation's answer updates the item where the cache holds it.
    assert report["renamed"] == {
        "id": expected[0],
        "errors": [],
        "title": "Retitled by Apollo Client",
        "cachedTitle": "Retitled by Apollo Client",
    }
