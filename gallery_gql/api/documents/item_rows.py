"""A `ContentItem`'s fields read straight from the item's columns: the compiled path
renders a page from the rows its statement returned, with no `ItemRecord` or
`ContentItem` made per item.

Each reader returns what the strawberry field returns for the same item (its attribute as
`ContentItem.__init__` sets it, or its plain resolver), so completing it with the schema's
type gives the executor's value; tests/api/test_item_rows.py proves every reader equal to
the field it stands for. A field without a reader here is not compiled.

Columns are taken by name: an asyncpg record of a page statement, or `item_columns` of a
record (the item view's one item).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from gallery_gql.api.global_id import item_global_id_of
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.gallery.json_depth import cut_at_depth
from gallery_gql.gallery.keys import SOURCE_OF_NUMBER, ItemKey
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.thumbnails import best_thumbnail, media_locator

Columns = Mapping[str, Any]
ColumnReader = Callable[[Columns], Any]


def _global_id(m: Columns) -> str:
    return item_global_id_of(m["source"], m["id"])


def _source(m: Columns) -> ContentSource:
    return ContentSource.from_domain(SOURCE_OF_NUMBER[m["source"]])


def _metadata(m: Columns) -> Any:
    return cut_at_depth(m["item_metadata"])


COLUMN_FIELDS: dict[str, str] = {
    "databaseId": "id",
    "title": "title",
    "contentType": "content_type",
    "contentData": "content_data",
    "prompt": "prompt",
    "qualityScore": "quality_score",
    "isPrivate": "is_private",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "version": "version",
}
"""GraphQL field name → the column it is, as it is."""

READERS: dict[str, ColumnReader] = {
    "id": _global_id,
    "source": _source,
    **{name: itemgetter(column) for name, column in COLUMN_FIELDS.items()},
    "metadata": _metadata,
}
"""GraphQL field name → the field's value from the item's columns."""

READ_COLUMNS: dict[str, frozenset[str]] = {
    "id": frozenset({"source", "id"}),
    "source": frozenset({"source"}),
    **{name: frozenset({column}) for name, column in COLUMN_FIELDS.items()},
    "metadata": frozenset({"item_metadata"}),
}
"""GraphQL field name → the columns its reader reads: a page statement reads only those
its selection needs (`fetch.fetch_page_rows`)."""

THUMBNAIL_COLUMNS = frozenset({"content_data", "path_thumb", "path_thumbs_alt_res"})
CREATOR_COLUMNS = frozenset({"creator_id"})
TAG_COLUMNS = frozenset({"tags"})


def thumbnail_reader(
    media_url_prefix: str | None, resolution: str | None
) -> Callable[[Columns], str]:
    """`thumbnail(resolution:)` from the columns (`types/content.thumbnail_resolver`)."""
    locate = media_locator(media_url_prefix)

    def thumbnail(m: Columns) -> str:
        return locate(
            best_thumbnail(m["content_data"], m["path_thumb"], m["path_thumbs_alt_res"], resolution)
        )

    return thumbnail


def item_key(m: Columns) -> ItemKey:
    return ItemKey(SOURCE_OF_NUMBER[m["source"]], m["id"])


def tag_ids(m: Columns) -> tuple[Any, ...] | None:
    """The item's tag array as `ItemRecord.tags` has it; None when it was not read."""
    tags = m.get("tags")
    return None if tags is None else tuple(tags)


def item_columns(record: ItemRecord) -> dict[str, Any]:
    """A record as the columns it was read from (`lookups.item_from_columns` inverted)."""
    return {
        "source": int(record.source),
        "id": record.id,
        "title": record.title,
        "content_type": record.content_type,
        "content_data": record.content_data,
        "path_thumb": record.path_thumb,
        "path_thumbs_alt_res": record.path_thumbs_alt_res,
        "prompt": record.prompt,
        "item_metadata": record.item_metadata,
        "creator_id": record.creator_id,
        "quality_score": record.quality_score,
        "is_private": record.is_private,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "tags": record.tags,
        "version": record.version,
    }
