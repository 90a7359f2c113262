"""The Mutation root, composed of one mixin per mutation group."""

from __future__ import annotations

import strawberry

from gallery_gql.api.mutations.content import ContentMutations
from gallery_gql.api.mutations.tagging import TaggingMutations
from gallery_gql.api.mutations.tags import TagMutations


@strawberry.type(
    description="The gallery's write API. Every mutation needs a signed-in viewer; "
    "expected failures come back in the payload's `errors`, with nothing written."
)
class Mutation(ContentMutations, TaggingMutations, TagMutations):
    pass


__all__ = ["Mutation"]
