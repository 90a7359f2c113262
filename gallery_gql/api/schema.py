"""Schema assembly: the Query root, extensions and limits."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from gallery_gql.api.errors import ErrorCodes
from gallery_gql.api.queries.content import ContentQueries
from gallery_gql.api.queries.tags import TagQueries
from gallery_gql.api.queries.viewer import ViewerQueries
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User


@strawberry.type(description="The gallery's read API.")
class Query(ContentQueries, TagQueries, ViewerQueries):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[ContentItem, Tag, User],
        extensions=[
            ErrorCodes,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


schema = build_schema()
