"""Mutation inputs and payloads (Relay input objects; Saleor-style `errors` lists).

Expected failures are data: a payload's `errors` lists them, its result fields are then
null, and nothing was written. Top-level GraphQL errors mean the request itself was
malformed or something unexpected happened.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.api.types.tag import Tag
from gallery_gql.gallery.writes.limits import MAX_BATCH


@strawberry.enum(description="Why a mutation (or one item of a bulk mutation) failed.")
class MutationErrorCode(Enum):
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT", description="An input value is invalid; `field` says which."
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="Sign in first (Authorization: Bearer <token>)."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="The viewer may not do this (not the creator, not an admin)."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No such object, or one the viewer cannot see."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT",
        description="The object changed since it was read (see `currentVersion`), or the "
        "change would clash with existing data (a duplicate name, a cycle).",
    )


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class MutationError:
    code: MutationErrorCode = strawberry.field(description="A stable, machine-readable code.")
    field: str | None = strawberry.field(
        default=None,
        description="The input field at fault (e.g. `tags`, `qualityScore`), relative to the "
        "input object (for bulk mutations, to the item at `index`); null for the whole input.",
    )
    message: str = strawberry.field(default="", description="A human-readable explanation.")
    values: list[str] | None = strawberry.field(
        default=None, description="The offending values, e.g. every unknown tag as given."
    )
    current_version: int | None = strawberry.field(
        default=None, description="On a stale `expectedVersion` (CONFLICT): the item's version."
    )


# -- content -----------------------------------------------------------------------------------


@strawberry.input(description="A new content item.")
class CreateContentInput:
    title: str = strawberry.field(description="Title, 1 to 255 characters, not blank.")
    content_type: str = strawberry.field(description="One of image, video, audio, text.")
    content_data: str = strawberry.field(description="Path of the full-size content.")
    prompt: str = strawberry.field(
        description="The generating prompt, at most 20,000 characters; it cannot be changed later."
    )
    source: ContentSource = strawberry.field(
        default=ContentSource.REGULAR, description="Which collection the item goes into."
    )
    path_thumb: str | None = strawberry.field(default=None, description="Thumbnail path.")
    path_thumbs_alt_res: JSON | None = strawberry.field(
        default=None,
        description="Thumbnails at other resolutions: an object mapping e.g. `512x512` to a "
        "path (at most 32 entries).",
    )
    metadata: JSON | None = strawberry.field(
        default=None,
        description="Free-form generation metadata, a JSON object up to 16 KiB, nested at most 32 "
        "levels deep.",
    )
    quality_score: float = strawberry.field(default=0.0, description="Between 0 and 1.")
    is_private: bool = strawberry.field(
        default=False, description="Whether only the creator can see the item."
    )
    tags: list[str] | None = strawberry.field(
        default=None,
        description="Tags as tag UUIDs, Tag ids or exact names (at most 200 distinct; "
        "repeats are ignored). Unknown tags fail the request; tags are never created here.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any unique string (up to 200 characters) chosen by the client: a retry "
        "with the same key and input within 24 hours returns the first result instead of "
        "creating again; the same key with another input is refused.",
    )


@strawberry.type(description="The result of createContent.")
class CreateContentPayload:
    item: ContentItem | None = strawberry.field(
        default=None,
        description="The new item: null on errors, or when it could not be read back after the "
        "write (no errors then: the item was created).",
    )
    replayed: bool = strawberry.field(
        default=False,
        description="True when `idempotencyKey` matched an earlier request and its result "
        "was returned without writing.",
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )


@strawberry.input(
    description="Change an item's tags: give `set` (the complete new list), or `add` "
    "and/or `remove`, not both."
)
class RetagContentInput:
    id: strawberry.ID = strawberry.field(description="ContentItem.id of the item.")
    set: list[str] | None = strawberry.field(
        default=None,
        description="The item's complete new tag list (UUIDs, Tag ids or exact names).",
    )
    add: list[str] | None = strawberry.field(
        default=None, description="Tags to add (UUIDs, Tag ids or exact names)."
    )
    remove: list[str] | None = strawberry.field(
        default=None, description="Tags to take off (UUIDs, Tag ids or exact names)."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The `version` the client last read: if the item changed since, nothing "
        "is written and a CONFLICT error carries the current version.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="As in CreateContentInput: a retry with the same key and input within "
        "24 hours returns the first result.",
    )


@strawberry.type(description="The result of retagContent.")
class RetagContentPayload:
    item: ContentItem | None = strawberry.field(
        default=None,
        description="The item with its new tags: null on errors, or when it could not be read "
        "back after the write (no errors then: `version` is the new one).",
    )
    version: int | None = strawberry.field(
        default=None,
        description="The item's version right after this change: later changes have higher "
        "versions (null on errors).",
    )
    replayed: bool = strawberry.field(
        default=False, description="True when the result was replayed from `idempotencyKey`."
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )


@strawberry.input(
    description="Change an item's fields. Omitted fields stay as they are; the prompt and "
    "the tags are changed elsewhere (never, and with retagContent)."
)
class UpdateContentInput:
    id: strawberry.ID = strawberry.field(description="ContentItem.id of the item.")
    expected_version: int | None = strawberry.field(
        default=None,
        description="The `version` the client last read; CONFLICT if the item changed since.",
    )
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="New title, 1 to 255 characters."
    )
    content_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="New media kind: image, video, audio or text."
    )
    content_data: str | None = strawberry.field(
        default=strawberry.UNSET, description="New path of the full-size content."
    )
    path_thumb: str | None = strawberry.field(
        default=strawberry.UNSET, description="New thumbnail path; null removes it."
    )
    path_thumbs_alt_res: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="New resolution → path object; null removes the alternatives.",
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="New metadata object (replaces the old one)."
    )
    quality_score: float | None = strawberry.field(
        default=strawberry.UNSET, description="New quality score, between 0 and 1."
    )
    is_private: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether only the creator can see the item."
    )


@strawberry.type(description="The result of updateContent.")
class UpdateContentPayload:
    item: ContentItem | None = strawberry.field(
        default=None,
        description="The changed item: null on errors, or when it could not be read back "
        "after the write (no errors then: the change was made).",
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )


@strawberry.input(description="Delete an item, with its tags.")
class DeleteContentInput:
    id: strawberry.ID = strawberry.field(description="ContentItem.id of the item.")
    expected_version: int | None = strawberry.field(
        default=None,
        description="The `version` the client last read; CONFLICT if the item changed since.",
    )


@strawberry.type(description="The result of deleteContent.")
class DeleteContentPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="ContentItem.id of the deleted item (null on errors)."
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )


# -- bulk --------------------------------------------------------------------------------------


@strawberry.input(description=f"Items to create in one call, at most {MAX_BATCH}.")
class BulkCreateContentInput:
    items: list[CreateContentInput] = strawberry.field(
        description=f"The items, at most {MAX_BATCH}; results come back in the same order."
    )


@strawberry.type(description="The outcome of one item of bulkCreateContent.")
class BulkCreateContentResult:
    index: int = strawberry.field(description="The item's position in `input.items`.")
    item: ContentItem | None = strawberry.field(
        default=None,
        description="The created item; null when the call wrote nothing, or when it could "
        "not be read back after the write.",
    )
    replayed: bool = strawberry.field(
        default=False, description="True when the result was replayed from `idempotencyKey`."
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="What is wrong with this item; empty if nothing."
    )


@strawberry.type(description="The result of bulkCreateContent.")
class BulkCreateContentPayload:
    count: int = strawberry.field(
        default=0,
        description="How many items this call created (replayed results not counted); 0 "
        "when any item has errors.",
    )
    results: list[BulkCreateContentResult] = strawberry.field(
        default_factory=list,
        description="One result per input item, in input order (empty on call-level errors).",
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list,
        description="Problems with the call as a whole (sign-in, too many items).",
    )


@strawberry.input(description=f"Tag changes to apply in one call, at most {MAX_BATCH}.")
class BulkRetagContentInput:
    items: list[RetagContentInput] = strawberry.field(
        description=f"The changes, at most {MAX_BATCH}, each item at most once; results come "
        "back in the same order."
    )


@strawberry.type(description="The outcome of one item of bulkRetagContent.")
class BulkRetagContentResult:
    index: int = strawberry.field(description="The change's position in `input.items`.")
    item: ContentItem | None = strawberry.field(
        default=None,
        description="The retagged item; null when the call wrote nothing, or when it could "
        "not be read back after the write.",
    )
    version: int | None = strawberry.field(
        default=None, description="The item's version right after this change."
    )
    replayed: bool = strawberry.field(
        default=False, description="True when the result was replayed from `idempotencyKey`."
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="What is wrong with this change; empty if nothing."
    )


@strawberry.type(description="The result of bulkRetagContent.")
class BulkRetagContentPayload:
    count: int = strawberry.field(
        default=0,
        description="How many items this call retagged (replayed results not counted); 0 "
        "when any item has errors.",
    )
    results: list[BulkRetagContentResult] = strawberry.field(
        default_factory=list,
        description="One result per input change, in input order (empty on call-level errors).",
    )
    errors: list[MutationError] = strawberry.field(
        default_factory=list,
        description="Problems with the call as a whole (sign-in, too many items).",
    )


# -- tags --------------------------------------------------------------------------------------


@strawberry.input(description="A new tag.")
class CreateTagInput:
    name: str = strawberry.field(
        description="Unique name, 1 to 255 characters, no surrounding whitespace, not a UUID."
    )
    parents: list[str] | None = strawberry.field(
        default=None, description="Existing parent tags (UUIDs, Tag ids or exact names)."
    )


@strawberry.type(description="The result of createTag.")
class CreateTagPayload:
    tag: Tag | None = strawberry.field(default=None, description="The new tag (null on errors).")
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )


@strawberry.input(description="An edge of the tag hierarchy: `parent` above `tag`.")
class TagParentInput:
    tag: str = strawberry.field(description="The child tag (UUID, Tag id or exact name).")
    parent: str = strawberry.field(description="The parent tag (UUID, Tag id or exact name).")


@strawberry.type(description="The result of addTagParent and removeTagParent.")
class TagParentPayload:
    tag: Tag | None = strawberry.field(default=None, description="The child tag.")
    parent: Tag | None = strawberry.field(default=None, description="The parent tag.")
    errors: list[MutationError] = strawberry.field(
        default_factory=list, description="Why nothing was written; empty on success."
    )
