"""The mutation tests' documents and calls: send a mutation and read its payload, the codes
of its errors, the tags of an item, and what the database holds (to see nothing written)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import GraphQLClient
from tests.factories import Dataset

ERRORS = "errors { code field message values currentVersion }"
ITEM = (
    "item { id databaseId source title version isPrivate qualityScore pathThumb: thumbnail "
    "tags { name } creator { databaseId } }"
)
CREATE = f"""mutation Create($input: CreateContentInput!) {{
  createContent(input: $input) {{ {ITEM} replayed {ERRORS} }}
}}"""
RETAG = f"""mutation Retag($input: RetagContentInput!) {{
  retagContent(input: $input) {{ {ITEM} version replayed {ERRORS} }}
}}"""
UPDATE = f"""mutation Update($input: UpdateContentInput!) {{
  updateContent(input: $input) {{ {ITEM} {ERRORS} }}
}}"""
DELETE = f"""mutation Delete($input: DeleteContentInput!) {{
  deleteContent(input: $input) {{ deletedId {ERRORS} }}
}}"""
BULK_CREATE = f"""mutation BulkCreate($input: BulkCreateContentInput!) {{
  bulkCreateContent(input: $input) {{
    count results {{ index replayed item {{ id title tags {{ name }} }} {ERRORS} }} {ERRORS}
  }}
}}"""
BULK_RETAG = f"""mutation BulkRetag($input: BulkRetagContentInput!) {{
  bulkRetagContent(input: $input) {{
    count results {{ index version item {{ id tags {{ name }} }} {ERRORS} }} {ERRORS}
  }}
}}"""
CREATE_TAG = f"""mutation CreateTag($input: CreateTagInput!) {{
  createTag(input: $input) {{ tag {{ name parents {{ name }} }} {ERRORS} }}
}}"""
ADD_PARENT = f"""mutation AddParent($input: TagParentInput!) {{
  addTagParent(input: $input) {{ tag {{ name parents {{ name }} }} parent {{ name }} {ERRORS} }}
}}"""
REMOVE_PARENT = f"""mutation RemoveParent($input: TagParentInput!) {{
  removeTagParent(input: $input) {{ tag {{ name parents {{ name }} }} {ERRORS} }}
}}"""
BY_TAGS = """query ByTags($tags: [ID!]) {
  contentItems(tags: $tags, first: 100) { edges { node { id } } }
}"""
BY_ID = "query ById($id: ID!) { contentItem(id: $id) { id title version } }"
BY_ID_TAGS = "query ById($id: ID!) { contentItem(id: $id) { id tags { name } } }"


@dataclass(frozen=True)
class Env:
    dataset: Dataset
    admin: str
    owner: str
    other: str
    owner_id: UUID

    def tag(self, n: int) -> str:
        return str(self.dataset.tags[n])


def new_item(**fields: Any) -> dict[str, Any]:
    return {
        "title": "A cat",
        "contentType": "image",
        "contentData": "/data/cat.png",
        "prompt": "a cat on a mat",
        **fields,
    }


async def mutate(
    gql: GraphQLClient, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """The mutation's payload; expected failures must never be top-level errors."""
    data = await gql.data(query, {"input": variables}, token)
    (payload,) = data.values()
    result: dict[str, Any] = payload
    return result


async def create_item(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = await mutate(gql, CREATE, new_item(**fields), token)
    assert payload["errors"] == [], payload["errors"]
    item: dict[str, Any] = payload["item"]
    return item


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


def tag_names(item: dict[str, Any]) -> list[str]:
    return [tag["name"] for tag in item["tags"]]


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in (
                "content_items",
                "content_items_auto",
                "content_tags",
                "tags",
                "tag_parents",
                "idempotency_keys",
            )
        } | {
            "versions": int(
                (
                    await conn.execute(
                        text(
                            "SELECT (SELECT coalesce(sum(version), 0) FROM content_items) + "
                            "(SELECT coalesce(sum(version), 0) FROM content_items_auto)"
                        )
                    )
                ).scalar_one()
            )
        }


async def ids_tagged(gql: GraphQLClient, token: str, tag: str) -> set[str]:
    data = await gql.data(BY_TAGS, {"tags": [tag]}, token)
    return {edge["node"]["id"] for edge in data["contentItems"]["edges"]}
