"""Standard GraphQL tooling against the gateway: the graphql-http audit suite against the
served app on loopback, and relay-compiler over schema.graphql with documents using
`@connection` and `@refetchable`, whose generated operations then page the gallery.

Both come from `conformance/package-lock.json` (`make conformance-deps`); without Node.js
or the installed packages the tests are skipped, saying why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.app import create_app
from gallery_gql.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import Dataset, build_gallery
from tests.web.support import CONFORMANCE, requires_conformance, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
RELAY_COMPILER = CONFORMANCE / "node_modules" / ".bin" / "relay-compiler"
# Audits whose documents ask `__type`: with introspection off they meet a validation error.
INTROSPECTING_AUDITS = {"2EA1", "28B9", "D6D5", "6A70"}


requires_audit = requires_conformance("graphql-http")
requires_relay = requires_conformance("relay-compiler")


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


def _audit(settings: Settings) -> list[dict[str, Any]]:
    with serve_in_thread(create_app(settings)) as url:
        run = subprocess.run(
            ["node", str(CONFORMANCE / "audit.mjs"), f"{url}/graphql"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    assert len(results) == 61  # every audit of graphql-http 1.23.1 (the lockfile pins it)
    return results


@requires_audit
def test_the_graphql_http_audit_passes_whole(settings: Settings) -> None:
    """Zero errors (MUST) and zero warnings (SHOULD and MAY)."""
    results = _audit(settings)
    assert [result for result in results if result["status"] != "ok"] == []


@requires_audit
def test_in_production_only_the_introspecting_audits_fail(settings: Settings) -> None:
    """Introspection is off in production, so the audits that ask `__type` are refused
    as any client asking it would be; every other audit passes."""
    results = _audit(settings.model_copy(update={"environment": "production"}))
    failed = {result["id"]: result for result in results if result["status"] != "ok"}
    assert set(failed) == INTROSPECTING_AUDITS
    for result in failed.values():
        (error,) = json.loads(result["response"]["body"])["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection has been disabled" in error["message"]


# -- Relay ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def relay_operations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """relay-compiler over schema.graphql and conformance/relay/src: the text of each
    operation it generates, by name."""
    work = tmp_path_factory.mktemp("relay")
    shutil.copytree(CONFORMANCE / "relay" / "src", work / "src")
    (work / "__generated__").mkdir()
    config = {
        "src": "./src",
        "schema": str(ROOT / "schema.graphql"),
        "language": "javascript",
        "artifactDirectory": "./__generated__",
        "customScalarTypes": {"Cursor": "string"},
    }
    (work / "relay.config.json").write_text(json.dumps(config))
    run = subprocess.run(
        [str(RELAY_COMPILER), "relay.config.json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    operations = {}
    for artifact in (work / "__generated__").glob("*Query.graphql.js"):
        found = re.search(r'"text": ("(?:[^"\\]|\\.)*")', artifact.read_text())
        assert found, artifact.name
        operations[artifact.name.removesuffix(".graphql.js")] = json.loads(found.group(1))
    return operations


@pytest.fixture(scope="module")
async def gallery(module_database_url: str) -> AsyncIterator[Dataset]:
    engine = create_async_engine(module_database_url)
    yield await build_gallery(engine, regular=20, auto=40)
    await engine.dispose()


@requires_relay
def test_relay_compiler_accepts_the_schema_and_paging_documents(
    relay_operations: dict[str, str],
) -> None:
    assert set(relay_operations) >= {
        "GalleryPaginationQuery",
        "GalleryItemRefetchQuery",
        "TagSearchPaginationQuery",
    }
    # Relay declares page sizes as plain Ints.
    assert "$first: Int" in relay_operations["GalleryPaginationQuery"]


async def _walk(
    gql: GraphQLClient, operation: str, variables: dict[str, Any], backward: bool = False
) -> list[str]:
    """Every node id, following the connection as Relay's pagination does."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        paging = {"last": 7, "before": cursor} if backward else {"first": 7, "after": cursor}
        data = await gql.data(operation, {**variables, **paging})
        connection = next(iter(data.values()))
        page = [edge["node"]["id"] for edge in connection["edges"]]
        ids = page + ids if backward else ids + page
        info = connection["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return ids
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError("the connection did not end")


@requires_relay
async def test_relay_generated_operations_page_the_gallery(
    relay_operations: dict[str, str], gallery: Dataset, gql: GraphQLClient
) -> None:
    items = relay_operations["GalleryPaginationQuery"]
    everything = await gql.data(items, {"first": 100})
    expected = [edge["node"]["id"] for edge in everything["contentItems"]["edges"]]
    assert len(expected) == everything["contentItems"]["totalCount"]["count"] > 7
    assert await _walk(gql, items, {}) == expected
    assert await _walk(gql, items, {}, backward=True) == expected
    tagged = {"tags": [str(gallery.tags[1])], "match": "ANY", "sort": "TOP_RATED"}
    assert await _walk(gql, items, tagged) == await _walk(gql, items, tagged, backward=True)

    tags = relay_operations["TagSearchPaginationQuery"]
    names: list[str] = []
    cursor = None
    while True:
        data = (await gql.data(tags, {"search": "tag", "count": 3, "cursor": cursor}))["tags"]
        names += [edge["node"]["name"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        cursor = data["pageInfo"]["endCursor"]
    assert names == sorted(gallery.tag_names.values())

    refetch = relay_operations["GalleryItemRefetchQuery"]
    node = (await gql.data(refetch, {"id": expected[0], "resolution": "512x512"}))["node"]
    assert node["id"] == expected[0]
    assert node["title"]
