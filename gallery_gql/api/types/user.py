"""The User type."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gallery_gql.api.global_id import encode_global_id
from gallery_gql.api.types.node import Node
from gallery_gql.gallery.records import UserRecord


@strawberry.type(description="A person who creates content.")
class User(Node):
    record: strawberry.Private[UserRecord]

    @strawberry.field(description="The user's global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id("User", str(self.record.id)))

    @strawberry.field(description="The user's UUID in the database.")
    def database_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field(description="Unique user name.")
    def username(self) -> str:
        return self.record.username

    @strawberry.field(description="Whether the account is active.")
    def is_active(self) -> bool:
        return self.record.is_active

    @strawberry.field(description="When the account was created.")
    def created_at(self) -> datetime:
        return self.record.created_at
