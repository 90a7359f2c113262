"""What every mutation shares: the viewer as actor, input ids and tag values, the write
transaction, fresh records afterwards, and the one mapping from domain exceptions to
MutationError."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TypeVar
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.api.consistency import record_write
from gallery_gql.api.context import Ctx
from gallery_gql.api.errors import PublicError, bad_input
from gallery_gql.api.global_id import decode_global_id, decode_item_key
from gallery_gql.api.types.content import ContentItem
from gallery_gql.api.types.mutation_payloads import MutationError, MutationErrorCode
from gallery_gql.db.transactions import run_in_transaction
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.writes.errors import (
    BatchTooLargeError,
    DuplicateTagNameError,
    FieldProblem,
    ForbiddenItemError,
    IdempotencyKeyReusedError,
    InvalidContentError,
    InvalidIdempotencyKeyError,
    InvalidParentsError,
    InvalidTagNameError,
    ItemNotFoundError,
    TagCycleError,
    TagLinkNotFoundError,
    TooManyTagsError,
    UnknownTagsError,
    UnknownTagValuesError,
    VersionConflictError,
)
from gallery_gql.gallery.writes.inputs import Actor

T = TypeVar("T")

log = logging.getLogger("gallery_gql.mutations")

_FIELD_NAMES = {"item_metadata": "metadata"}


def graphql_field(name: str | None) -> str | None:
    """The input field a domain field name stands for (`quality_score` → `qualityScore`)."""
    if name is None:
        return None
    name = _FIELD_NAMES.get(name, name)
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def viewer_actor(info: Ctx) -> Actor | MutationError:
    """The signed-in viewer as the actor of a write, or an UNAUTHENTICATED error."""
    try:
        viewer = info.context.require_viewer()
    except PublicError as exc:
        return MutationError(code=MutationErrorCode.UNAUTHENTICATED, message=exc.message)
    return Actor(viewer.id, viewer.is_admin)


def admin_actor(info: Ctx) -> Actor | MutationError:
    """The viewer if an admin; UNAUTHENTICATED or FORBIDDEN otherwise."""
    actor = viewer_actor(info)
    if isinstance(actor, Actor) and not actor.is_admin:
        return MutationError(code=MutationErrorCode.FORBIDDEN, message="this needs an admin")
    return actor


def parse_item_id(value: str) -> ItemKey:
    """A ContentItem global id as the item's key; PublicError (BAD_USER_INPUT) otherwise."""
    type_name, key = decode_global_id(value)
    if type_name != "ContentItem":
        raise bad_input(f"id {value[:64]!r} is not a ContentItem id")
    return decode_item_key(key)


def tag_values(values: Iterable[str] | None, aliases: dict[str, str]) -> tuple[str, ...] | None:
    """Tag references as the domain reads them (UUIDs or names): Tag global ids become
    their UUIDs. `aliases` learns each rewritten value's original, to name it in errors."""
    if values is None:
        return None
    out = []
    for value in values:
        normalized = _tag_value(value)
        if normalized != value:
            aliases.setdefault(normalized, value)
        out.append(normalized)
    return tuple(out)


def _tag_value(value: str) -> str:
    try:
        UUID(value)
    except ValueError:
        pass
    else:
        return value
    try:
        type_name, key = decode_global_id(value)
        return str(UUID(key)) if type_name == "Tag" else value
    except (PublicError, ValueError):
        return value  # a name


async def write(info: Ctx, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`fn` in one write transaction (timeouts, retried on deadlock/serialization); the
    request's later reads, and the viewer's, then see it (api/consistency.py)."""
    settings = info.context.settings
    result = await run_in_transaction(
        info.context.engine,
        fn,
        lock_timeout_ms=settings.lock_timeout_ms,
        statement_timeout_ms=settings.write_statement_timeout_ms,
    )
    await record_write(info.context.read_engine, info.context.reads)
    return result


async def fresh_items(info: Ctx, keys: Sequence[ItemKey]) -> list[ItemRecord | None]:
    """The items as committed, through the request's loader (its cache of them dropped).

    Called after the write has committed: a read that fails now (a statement timeout on a
    stalled server, a lost connection) must not turn the answer into an error, or a
    client would retry a write that stands (a retag counted twice, a second item). The
    payload then carries no item, and its `version` and empty `errors` say it was written.
    """
    loaders = info.context.loaders
    for key in keys:
        loaders.items.clear(key)
    try:
        return list(await loaders.items.load_many(list(keys)))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("items unreadable after a committed write (%s)", type(exc).__name__)
        return [None] * len(keys)


def readable_item(info: Ctx, record: ItemRecord | None) -> ContentItem | None:
    """The item for a payload, if the viewer may read it: an admin may change someone's
    private item, but never sees it through the payload (nor through any query)."""
    if record is None or not record.visible_to(info.context.viewer_id):
        return None
    return ContentItem(record=record)


def forget_tags(info: Ctx) -> None:
    """Drop every cached tag read of this request (after a hierarchy change)."""
    info.context.loaders.tags.clear_all()
    info.context.loaders.tag_sets.clear_all()


def _error(
    code: MutationErrorCode,
    message: str,
    field: str | None = None,
    values: Sequence[str] | None = None,
    current_version: int | None = None,
) -> MutationError:
    return MutationError(
        code=code,
        field=field,
        message=message,
        values=list(values) if values is not None else None,
        current_version=current_version,
    )


def _problem(problem: FieldProblem) -> MutationError:
    return _error(MutationErrorCode.BAD_USER_INPUT, problem.message, graphql_field(problem.field))


def mutation_errors(
    exc: Exception, aliases: Mapping[str, str] | None = None, tag_field: str = "tags"
) -> list[MutationError]:
    """The MutationErrors an expected domain exception stands for. Anything else is
    re-raised: it is not the client's to handle and becomes a masked top-level error."""
    aliases = aliases or {}
    code = MutationErrorCode
    match exc:
        case InvalidContentError():
            return [_problem(problem) for problem in exc.problems]
        case UnknownTagsError():
            field = exc.field if isinstance(exc, UnknownTagValuesError) else tag_field
            shown = [aliases.get(value, value) for value in exc.values]
            message = "unknown tags: " + ", ".join(shown) + " (tags are not created here)"
            return [_error(code.BAD_USER_INPUT, message, field, shown)]
        case TooManyTagsError():
            return [_error(code.BAD_USER_INPUT, str(exc), tag_field)]
        case ItemNotFoundError():
            return [_error(code.NOT_FOUND, "no such item", "id")]
        case ForbiddenItemError():
            return [_error(code.FORBIDDEN, str(exc), "id")]
        case VersionConflictError():
            return [_error(code.CONFLICT, str(exc), "expectedVersion", None, exc.current)]
        case IdempotencyKeyReusedError() | InvalidIdempotencyKeyError():
            return [_error(code.BAD_USER_INPUT, str(exc), "idempotencyKey")]
        case BatchTooLargeError():
            return [_error(code.BAD_USER_INPUT, str(exc), "items")]
        case InvalidTagNameError():
            return [_error(code.BAD_USER_INPUT, str(exc), "name")]
        case InvalidParentsError():
            return [_error(code.BAD_USER_INPUT, str(exc), "parents")]
        case DuplicateTagNameError():
            return [_error(code.CONFLICT, str(exc), "name")]
        case TagCycleError():
            return [_error(code.CONFLICT, str(exc), "parent")]
        case TagLinkNotFoundError():
            return [_error(code.NOT_FOUND, str(exc), "parent")]
        case PublicError():
            mapped = (
                code[exc.code.value] if exc.code.value in code.__members__ else code.BAD_USER_INPUT
            )
            return [_error(mapped, exc.message)]
    raise exc


def bad_id(exc: PublicError) -> MutationError:
    return _error(MutationErrorCode.BAD_USER_INPUT, exc.message, "id")
