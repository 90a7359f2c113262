"""GraphQL input types."""

from __future__ import annotations

import strawberry

from gallery_gql.api.types.enums import CreatorScope


@strawberry.input(description="Whose items to show. Give a `scope`, or a `userId`, not both.")
class CreatorFilter:
    scope: CreatorScope = strawberry.field(
        default=CreatorScope.ANYONE,
        description="ANYONE, ME (the viewer's items) or OTHERS (everyone but the viewer).",
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this user's items (a User id or UUID)."
    )
