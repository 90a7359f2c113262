"""The filter arguments `contentItems` and `contentItemEvents` share: one definition of
each argument's type, default and description."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gallery_gql.api.types.enums import ContentCollection, ContentSource, TagMatchMode
from gallery_gql.api.types.inputs import CreatorFilter

TagsArg = Annotated[
    list[strawberry.ID] | None,
    strawberry.argument(description="Tag ids (UUIDs or Tag.id values), at most 20."),
]
TagNamesArg = Annotated[
    list[str] | None,
    strawberry.argument(
        description="Tags by exact name, at most 20; they join `tags` (an unknown "
        "name is BAD_USER_INPUT listing every unknown name)."
    ),
]
MatchArg = Annotated[
    TagMatchMode,
    strawberry.argument(description="Whether items need ANY or ALL of `tags`."),
]
ExcludeTagsArg = Annotated[
    list[strawberry.ID] | None,
    strawberry.argument(description="Drop items carrying any of these tags (at most 20)."),
]
ExcludeTagNamesArg = Annotated[
    list[str] | None,
    strawberry.argument(
        description="Drop items carrying any of these tags, by exact name (at most 20)."
    ),
]
CreatorArg = Annotated[
    CreatorFilter | None,
    strawberry.argument(description="Whose items: anyone, the viewer, others, or one user."),
]
SourcesArg = Annotated[
    list[ContentSource] | None,
    strawberry.argument(description="Which sources to include (default: both)."),
]
CollectionsArg = Annotated[
    list[ContentCollection] | None,
    strawberry.argument(
        description="Which of the gallery's collections to show (default: every item "
        "the viewer may see); `[]` shows nothing. Intersects `sources`; with a "
        "`creator` scope other than ANYONE it is BAD_USER_INPUT."
    ),
]
SearchArg = Annotated[
    str | None,
    strawberry.argument(
        description="Words that must all appear in the title or prompt (at most 200 "
        "characters and 16 words)."
    ),
]
