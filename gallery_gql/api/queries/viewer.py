"""The viewer and generic node lookup."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import bad_input
from gallery_gql.api.global_id import decode_global_id, decode_item_key, parse_uuid
from gallery_gql.api.queries.content import load_visible_item
from gallery_gql.api.types.node import Node
from gallery_gql.api.types.tag import Tag
from gallery_gql.api.types.user import User


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="The signed-in user (from the bearer token), or null.")
    def viewer(self, info: Ctx) -> User | None:
        viewer = info.context.viewer
        return User(record=viewer) if viewer else None

    @strawberry.field(description="Any object by its global id; null if absent or not visible.")
    async def node(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        type_name, key = decode_global_id(id)
        loaders = info.context.loaders
        if type_name == "ContentItem":
            return await load_visible_item(info, decode_item_key(key))
        if type_name == "Tag":
            tag = await loaders.tags.by_id.load(parse_uuid(key, "Tag"))
            return Tag(record=tag) if tag else None
        if type_name == "User":
            user = await loaders.users.load(parse_uuid(key, "User"))
            return User(record=user) if user else None
        raise bad_input(f"id {id[:64]!r} names no known type")
