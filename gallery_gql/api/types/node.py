"""The Relay Node interface."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    @strawberry.field(description="The object's global id, for `node(id:)`.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError
