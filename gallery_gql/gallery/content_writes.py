"""Writes to content items: create, update, delete, and batches of creates and retags.

Everything runs in the caller's transaction (see `transactions.run_in_transaction`).
Items are locked with `SELECT … FOR UPDATE` in (source, id) order before anything is
written, the order `tagging.retag` uses, and every tag change goes through
`tagging.retag`, the one write path for tags. Per-transaction lock order is therefore:
idempotency keys (by key) → items (by source, id) → junction rows (by tag, item) →
tag_counts (by tag, source).

Checks come before writes: a call that raises has written nothing once its transaction
rolls back. The batch functions check every request and report every problem at once
(`BatchRejectedError`, problems by request index); they are all-or-nothing.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Table, delete, func, literal, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_int
from gallery_gql.db.tables import CONTENT_TABLES, content_tags
from gallery_gql.gallery import idempotency
from gallery_gql.gallery.filters import ItemKey, Source
from gallery_gql.gallery.idempotency import (
    IdempotencyError,
    IdempotencyKeyReusedError,
    IdempotentRequest,
    InvalidIdempotencyKeyError,
)
from gallery_gql.gallery.lookups import item_record
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.tagging import (
    MAX_TAGS_PER_ITEM,
    ItemNotFoundError,
    Retag,
    TagRef,
    TooManyTagsError,
    UnknownTagsError,
    VersionConflictError,
    adjust_counts,
    retag,
    tag_refs_by_value,
)

CONTENT_TYPES = ("image", "video", "audio", "text")
MAX_TITLE_LENGTH = 255
MAX_PROMPT_LENGTH = 20_000
MAX_PATH_LENGTH = 4_096
MAX_ALT_RESOLUTIONS = 32
MAX_METADATA_BYTES = 64 * 1024
MAX_TAG_VALUES = 1_000
"""Values one tag list may carry before deduplication (the deduplicated tags are capped
at `tagging.MAX_TAGS_PER_ITEM`)."""
MAX_BATCH = 500

CREATE_OPERATION = "createContent"
RETAG_OPERATION = "retagContent"


# -- who writes, what can go wrong ---------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who asks for a write: creators may change their own items, admins any item."""

    user_id: UUID
    is_admin: bool = False


class ContentWriteError(Exception):
    """A content write that cannot be done as asked."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input value; `field` is the domain name (e.g. `quality_score`), or
    None for the request as a whole."""

    field: str | None
    message: str


class InvalidContentError(ContentWriteError):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = list(problems)


class ForbiddenItemError(ContentWriteError):
    def __init__(self, item: ItemKey) -> None:
        super().__init__("only the item's creator or an admin may change it")
        self.item = item


class UnknownTagValuesError(UnknownTagsError):
    """Unknown tags in one named list of a request (`tags`, `set`, `add`, `remove`)."""

    def __init__(self, field: str, values: Sequence[str]) -> None:
        super().__init__(values)
        self.field = field


class BatchTooLargeError(ContentWriteError):
    def __init__(self, count: int) -> None:
        super().__init__(f"a call takes at most {MAX_BATCH} items, got {count}")
        self.count = count


class BatchRejectedError(ContentWriteError):
    """Some requests of a batch failed; nothing was written. `problems` maps each failed
    request's index to everything wrong with it."""

    def __init__(self, problems: Mapping[int, Sequence[Exception]]) -> None:
        super().__init__(f"{len(problems)} request(s) rejected")
        self.problems = {index: list(found) for index, found in sorted(problems.items())}


# -- inputs and results --------------------------------------------------------------------


class _Unset(Enum):
    UNSET = "UNSET"


UNSET = _Unset.UNSET
"""An `ItemChanges` field left as it is."""


@dataclass(frozen=True)
class NewItem:
    source: Source
    title: str
    content_type: str
    content_data: str
    prompt: str
    path_thumb: str | None = None
    path_thumbs_alt_res: dict[str, str] | None = None
    item_metadata: dict[str, Any] = field(default_factory=dict)
    quality_score: float = 0.0
    is_private: bool = False
    tags: frozenset[TagRef] = frozenset()

    def columns(self) -> dict[str, Any]:
        """The item's row values (without id, source and tags)."""
        return {
            "title": self.title,
            "content_type": self.content_type,
            "content_data": self.content_data,
            "path_thumb": self.path_thumb,
            "path_thumbs_alt_res": self.path_thumbs_alt_res,
            "prompt": self.prompt,
            "item_metadata": self.item_metadata,
            "quality_score": float(self.quality_score),
            "is_private": self.is_private,
        }


@dataclass(frozen=True)
class ItemChanges:
    """The mutable fields; UNSET leaves a field as it is. The prompt never changes."""

    title: str | _Unset | None = UNSET
    content_type: str | _Unset | None = UNSET
    content_data: str | _Unset | None = UNSET
    path_thumb: str | _Unset | None = UNSET
    path_thumbs_alt_res: dict[str, str] | _Unset | None = UNSET
    item_metadata: dict[str, Any] | _Unset | None = UNSET
    quality_score: float | _Unset | None = UNSET
    is_private: bool | _Unset | None = UNSET

    def given(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) is not UNSET
        }


@dataclass(frozen=True)
class CreateRequest:
    """One item to create; its tags are given as values (tag UUIDs or exact names)."""

    item: NewItem
    tag_values: tuple[str, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RetagRequest:
    """Replace an item's tags (`set`), or add and remove some; values are tag UUIDs or
    exact names."""

    item: ItemKey
    set: tuple[str, ...] | None = None
    add: tuple[str, ...] | None = None
    remove: tuple[str, ...] | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ItemWrite:
    """What a write did to an item; `replayed` when an idempotency key returned an
    earlier request's result instead of writing."""

    item: ItemKey
    version: int
    tags: tuple[UUID, ...]
    replayed: bool = False


# -- validation ----------------------------------------------------------------------------


def _text_problems(
    name: str, value: object, maximum: int, *, nullable: bool = False, blank: bool = True
) -> list[FieldProblem]:
    if value is None:
        return [] if nullable else [FieldProblem(name, f"`{name}` must not be null")]
    if not isinstance(value, str):
        return [FieldProblem(name, f"`{name}` must be a string")]
    if len(value) > maximum:
        return [FieldProblem(name, f"`{name}` is limited to {maximum} characters")]
    if "\x00" in value:
        return [FieldProblem(name, f"`{name}` must not contain NUL characters")]
    if not blank and not value.strip():
        return [FieldProblem(name, f"`{name}` must not be blank")]
    return []


def _json_problems(name: str, value: object) -> list[FieldProblem]:
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return [FieldProblem(name, f"`{name}` must be JSON")]
    if len(encoded) > MAX_METADATA_BYTES:
        return [FieldProblem(name, f"`{name}` is limited to {MAX_METADATA_BYTES} bytes of JSON")]
    if b"\\u0000" in encoded:
        return [FieldProblem(name, f"`{name}` must not contain NUL characters")]
    return []


def _alt_res_problems(value: object) -> list[FieldProblem]:
    name = "path_thumbs_alt_res"
    if value is None:
        return []
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return [FieldProblem(name, f"`{name}` must map resolutions to paths (strings)")]
    if len(value) > MAX_ALT_RESOLUTIONS:
        return [FieldProblem(name, f"`{name}` takes at most {MAX_ALT_RESOLUTIONS} entries")]
    for key, path in value.items():
        problems = _text_problems(name, key, 64) + _text_problems(name, path, MAX_PATH_LENGTH)
        if problems:
            return problems[:1]
    return []


def _field_problems(name: str, value: Any) -> list[FieldProblem]:
    """Problems of one field's new value (shared by create and update)."""
    if name == "title":
        return _text_problems(name, value, MAX_TITLE_LENGTH, blank=False)
    if name == "content_type":
        if value not in CONTENT_TYPES:
            allowed = ", ".join(CONTENT_TYPES)
            return [FieldProblem(name, f"`content_type` must be one of {allowed}")]
        return []
    if name == "content_data":
        return _text_problems(name, value, MAX_PATH_LENGTH, blank=False)
    if name == "path_thumb":
        return _text_problems(name, value, MAX_PATH_LENGTH, nullable=True, blank=False)
    if name == "path_thumbs_alt_res":
        return _alt_res_problems(value)
    if name == "prompt":
        return _text_problems(name, value, MAX_PROMPT_LENGTH)
    if name == "item_metadata":
        if not isinstance(value, dict):
            return [FieldProblem(name, "`metadata` must be a JSON object")]
        return _json_problems(name, value)
    if name == "quality_score":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return [FieldProblem(name, "`quality_score` must be a number")]
        if not 0 <= value <= 1:
            return [FieldProblem(name, "`quality_score` must be between 0 and 1")]
        return []
    if name == "is_private":
        return [] if isinstance(value, bool) else [FieldProblem(name, "`is_private` must be set")]
    raise ValueError(f"unknown field {name}")


_NEW_ITEM_FIELDS = (
    "title",
    "content_type",
    "content_data",
    "path_thumb",
    "path_thumbs_alt_res",
    "prompt",
    "item_metadata",
    "quality_score",
    "is_private",
)


def new_item_problems(item: NewItem) -> list[FieldProblem]:
    """Everything wrong with a new item's fields (tags aside)."""
    return [p for name in _NEW_ITEM_FIELDS for p in _field_problems(name, getattr(item, name))]


def changes_problems(changes: ItemChanges) -> list[FieldProblem]:
    given = changes.given()
    if not given:
        return [FieldProblem(None, "give at least one field to change")]
    return [p for name, value in given.items() for p in _field_problems(name, value)]


def _tag_list_problems(name: str, values: Sequence[str] | None) -> list[FieldProblem]:
    if values is not None and len(values) > MAX_TAG_VALUES:
        return [FieldProblem(name, f"`{name}` takes at most {MAX_TAG_VALUES} values")]
    return []


# -- locking and access --------------------------------------------------------------------


def _item_columns(table: Table) -> list[Any]:
    return [column for column in table.c if column.name != "search_vector"]


async def lock_items(conn: AsyncConnection, keys: Iterable[ItemKey]) -> dict[ItemKey, ItemRecord]:
    """The items that exist among `keys`, locked FOR UPDATE in (source, id) order."""
    wanted = sorted(set(keys))
    locked: dict[ItemKey, ItemRecord] = {}
    for source in sorted({key.source for key in wanted}):
        table = CONTENT_TABLES[source]
        stmt = (
            select(literal(int(source)).label("source"), *_item_columns(table))
            .where(table.c.id == any_int(f"lock_{int(source)}", [k.id for k in wanted]))
            .order_by(table.c.id)
            .with_for_update()
        )
        for row in await conn.execute(stmt):
            record = item_record(row)
            locked[record.key] = record
    return locked


def access_problem(
    key: ItemKey, record: ItemRecord | None, actor: Actor | None
) -> Exception | None:
    """Why `actor` may not change the item, if it may not. Others' private items are
    reported as missing, so their existence is not revealed. No actor: no check."""
    if record is None:
        return ItemNotFoundError([key])
    if actor is None or actor.is_admin or record.creator_id == actor.user_id:
        return None
    if record.is_private:
        return ItemNotFoundError([key])
    return ForbiddenItemError(key)


def _version_problem(record: ItemRecord, expected: int | None) -> Exception | None:
    if expected is not None and expected != record.version:
        return VersionConflictError(record.key, expected, record.version)
    return None


async def _lock_checked(
    conn: AsyncConnection,
    keys: Sequence[ItemKey],
    actor: Actor | None,
    expected_versions: Mapping[ItemKey, int | None],
) -> dict[ItemKey, ItemRecord]:
    locked = await lock_items(conn, keys)
    missing = sorted(key for key in set(keys) if key not in locked)
    if missing:
        raise ItemNotFoundError(missing)
    for key in sorted(set(keys)):
        problem = access_problem(key, locked[key], actor) or _version_problem(
            locked[key], expected_versions.get(key)
        )
        if problem is not None:
            raise problem
    return locked


# -- create --------------------------------------------------------------------------------


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")

_INSERT_ITEMS = """INSERT INTO {table} (id, title, content_type, content_data, path_thumb,
        path_thumbs_alt_res, prompt, item_metadata, creator_id, quality_score, is_private,
        tags, version)
    SELECT r.id, r.title, r.content_type, r.content_data, r.path_thumb,
        r.path_thumbs_alt_res, r.prompt, r.item_metadata, CAST(:creator_id AS uuid),
        r.quality_score, r.is_private, '{{}}'::uuid[], 0
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS r(id int, title text,
        content_type text, content_data text, path_thumb text, path_thumbs_alt_res jsonb,
        prompt text, item_metadata jsonb, quality_score float8, is_private bool)
    ORDER BY r.id"""


async def create_items(
    conn: AsyncConnection, creator_id: UUID, items: Sequence[NewItem]
) -> list[ItemWrite]:
    """Insert items (in input order) and give them their tags through `tagging.retag`.

    Ids are drawn from the sources' sequences first, so each result is exactly its
    input's item. Rows go in without tags at version 0; the retag writes array, junction
    and counts and brings every new item to version 1. Field values are not checked here
    (see `new_item_problems`); the tag limit is.
    """
    ids: dict[Source, list[int]] = {}
    for source in sorted({item.source for item in items}):
        table = CONTENT_TABLES[source]
        count = sum(1 for item in items if item.source is source)
        result = await conn.execute(_NEXT_IDS, {"table": table.name, "n": count})
        ids[source] = sorted(result.scalars())
    keys: list[ItemKey] = []
    taken: Counter[Source] = Counter()
    rows: dict[Source, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        item_id = ids[item.source][taken[item.source]]
        taken[item.source] += 1
        keys.append(ItemKey(item.source, item_id))
        rows[item.source].append({"id": item_id, **item.columns()})
    for source, source_rows in sorted(rows.items()):
        stmt = text(_INSERT_ITEMS.format(table=CONTENT_TABLES[source].name))
        payload = orjson.dumps(source_rows).decode()
        await conn.execute(stmt, {"creator_id": str(creator_id), "payload": payload})
    tagged = await retag(
        conn, [Retag(key, set=item.tags) for key, item in zip(keys, items, strict=True)]
    )
    return [ItemWrite(key, tagged[key].version, tagged[key].tags) for key in keys]


# -- update --------------------------------------------------------------------------------


async def update_item(
    conn: AsyncConnection,
    key: ItemKey,
    changes: ItemChanges,
    expected_version: int | None,
    *,
    actor: Actor | None = None,
) -> ItemRecord:
    """Change an item's mutable fields; version + 1, updated_at = now().

    The junction holds no copy of the quality score, so a new score touches only the
    item's row; a privacy change moves the item's tags between public and private in
    tag_counts.
    Raises InvalidContentError, ItemNotFoundError, ForbiddenItemError or
    VersionConflictError before writing.
    """
    problems = changes_problems(changes)
    if problems:
        raise InvalidContentError(problems)
    before = (await _lock_checked(conn, [key], actor, {key: expected_version}))[key]
    values = changes.given()
    if "quality_score" in values:
        values["quality_score"] = float(values["quality_score"])
    if "path_thumbs_alt_res" in values and values["path_thumbs_alt_res"] is None:
        values["path_thumbs_alt_res"] = null()  # SQL NULL, not JSON null
    table = CONTENT_TABLES[key.source]
    stmt = (
        update(table)
        .where(table.c.id == key.id)
        .values(**values, version=table.c.version + 1, updated_at=func.now())
        .returning(literal(int(key.source)).label("source"), *_item_columns(table))
    )
    after = item_record((await conn.execute(stmt)).one())
    if after.is_private != before.is_private:
        stmt_keys = select(content_tags.c.tag_key).where(
            content_tags.c.source == int(key.source), content_tags.c.item_id == key.id
        )
        deltas: Counter[tuple[int, Source, bool]] = Counter()
        for tag_key in (await conn.execute(stmt_keys)).scalars():
            deltas[(tag_key, key.source, before.is_private)] -= 1
            deltas[(tag_key, key.source, after.is_private)] += 1
        await adjust_counts(conn, deltas)
    return after


# -- delete --------------------------------------------------------------------------------


async def delete_items(
    conn: AsyncConnection,
    keys: Sequence[ItemKey],
    *,
    actor: Actor | None = None,
    expected_versions: Mapping[ItemKey, int | None] | None = None,
) -> list[ItemKey]:
    """Delete items with their junction rows, decrementing tag counts.

    Locks the items in (source, id) order, checks them all, untags them through
    `tagging.retag` (which removes every junction row and adjusts the counts), then
    deletes the rows. Raises ItemNotFoundError, ForbiddenItemError or
    VersionConflictError before writing.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return []
    await _lock_checked(conn, wanted, actor, expected_versions or {})
    await retag(conn, [Retag(key, set=frozenset()) for key in wanted])
    for source in sorted({key.source for key in wanted}):
        table = CONTENT_TABLES[source]
        ids = [key.id for key in wanted if key.source is source]
        await conn.execute(delete(table).where(table.c.id == any_int("delete_ids", ids)))
    return wanted


# -- batches -------------------------------------------------------------------------------


def _check_batch_size(requests: Sequence[object]) -> None:
    if len(requests) > MAX_BATCH:
        raise BatchTooLargeError(len(requests))


def _usable_keys(
    requests: Sequence[CreateRequest | RetagRequest], problems: defaultdict[int, list[Exception]]
) -> dict[int, str]:
    """Each request's idempotency key if it is well formed and first used here; the
    others become problems of their requests."""
    usable: dict[int, str] = {}
    first_use: dict[str, int] = {}
    for index, request in enumerate(requests):
        key = request.idempotency_key
        if key is None:
            continue
        try:
            idempotency.check_key(key)
        except InvalidIdempotencyKeyError as exc:
            problems[index].append(exc)
            continue
        if key in first_use:
            message = f"idempotency key already used by item {first_use[key]} of this call"
            problems[index].append(InvalidContentError([FieldProblem("idempotency_key", message)]))
            continue
        first_use[key] = index
        usable[index] = key
    return usable


async def _claim(
    conn: AsyncConnection,
    actor: Actor,
    keyed: Mapping[int, IdempotentRequest],
    problems: defaultdict[int, list[Exception]],
) -> dict[int, Any]:
    """Claim the keys; the stored response of each replayed request, by index."""
    if not keyed:
        return {}
    try:
        stored = await idempotency.claim(conn, actor.user_id, list(keyed.values()))
    except IdempotencyKeyReusedError as exc:
        reused = set(exc.keys)
        for index, request in keyed.items():
            if request.key in reused:
                problems[index].append(IdempotencyKeyReusedError([request.key]))
        return {}
    return {index: stored[r.key] for index, r in keyed.items() if r.key in stored}


def _raise_if(problems: Mapping[int, Sequence[Exception]]) -> None:
    if any(problems.values()):
        raise BatchRejectedError({index: found for index, found in problems.items() if found})


def _resolve(
    by_value: Mapping[str, TagRef], field: str, values: Sequence[str] | None
) -> tuple[frozenset[TagRef], Exception | None]:
    if values is None:
        return frozenset(), None
    unknown = list(dict.fromkeys(v for v in values if v not in by_value))
    if unknown:
        return frozenset(), UnknownTagValuesError(field, unknown)
    return frozenset(by_value[v] for v in values), None


def _written(write: ItemWrite) -> dict[str, Any]:
    return {
        "source": int(write.item.source),
        "id": write.item.id,
        "version": write.version,
        "tags": [str(tag) for tag in write.tags],
    }


def _replayed(response: Mapping[str, Any]) -> ItemWrite:
    key = ItemKey(Source(response["source"]), int(response["id"]))
    tags = tuple(UUID(tag) for tag in response["tags"])
    return ItemWrite(key, int(response["version"]), tags, replayed=True)


def _create_fingerprint(request: CreateRequest) -> dict[str, Any]:
    item = request.item
    return {
        "source": int(item.source),
        **item.columns(),
        "tags": list(request.tag_values),
    }


def _retag_fingerprint(request: RetagRequest) -> dict[str, Any]:
    return {
        "item": [int(request.item.source), request.item.id],
        "set": None if request.set is None else list(request.set),
        "add": None if request.add is None else list(request.add),
        "remove": None if request.remove is None else list(request.remove),
        "expected_version": request.expected_version,
    }


async def create_batch(
    conn: AsyncConnection, actor: Actor, requests: Sequence[CreateRequest]
) -> list[ItemWrite]:
    """Create items for `actor`, all or nothing, results in request order.

    Every request is checked (fields, idempotency keys, tags) and every problem reported
    in one BatchRejectedError. A request whose idempotency key was already used for the
    same request replays that result; one used for another request is rejected.
    """
    _check_batch_size(requests)
    problems: defaultdict[int, list[Exception]] = defaultdict(list)
    for index, request in enumerate(requests):
        found = new_item_problems(request.item) + _tag_list_problems("tags", request.tag_values)
        if found:
            problems[index].append(InvalidContentError(found))
    keys = _usable_keys(requests, problems)
    keyed = {
        index: IdempotentRequest(key, CREATE_OPERATION, _create_fingerprint(requests[index]))
        for index, key in keys.items()
    }
    replays = await _claim(conn, actor, keyed, problems)
    pending = [index for index in range(len(requests)) if index not in replays]
    checkable = [i for i in pending if len(requests[i].tag_values) <= MAX_TAG_VALUES]
    by_value = await tag_refs_by_value(
        conn, (value for index in checkable for value in requests[index].tag_values)
    )
    items: dict[int, NewItem] = {}
    for index in checkable:
        refs, unknown = _resolve(by_value, "tags", requests[index].tag_values)
        if unknown is not None:
            problems[index].append(unknown)
        elif len(refs) > MAX_TAGS_PER_ITEM:
            problems[index].append(TooManyTagsError(None, len(refs)))
        items[index] = replace(requests[index].item, tags=refs)
    _raise_if(problems)
    created = await create_items(conn, actor.user_id, [items[index] for index in pending])
    results = dict(zip(pending, created, strict=True))
    await idempotency.store(
        conn,
        actor.user_id,
        {keyed[index].key: _written(write) for index, write in results.items() if index in keyed},
    )
    results.update({index: _replayed(response) for index, response in replays.items()})
    return [results[index] for index in range(len(requests))]


def _retag_shape_problems(request: RetagRequest) -> list[FieldProblem]:
    if request.set is not None and (request.add is not None or request.remove is not None):
        return [FieldProblem("set", "give `set`, or `add`/`remove`, not both")]
    if request.set is None and request.add is None and request.remove is None:
        return [FieldProblem("set", "give `set`, or `add` and/or `remove`")]
    found = []
    for name in _TAG_LISTS:
        found += _tag_list_problems(name, getattr(request, name))
    return found


_TAG_LISTS = ("set", "add", "remove")


async def retag_batch(
    conn: AsyncConnection, actor: Actor, requests: Sequence[RetagRequest]
) -> list[ItemWrite]:
    """Change the tags of items `actor` may change, all or nothing, results in request
    order; each item at most once per call.

    Every request is checked (shape, idempotency keys, access, expected versions, tags,
    the tag limit) under the items' locks, and every problem reported in one
    BatchRejectedError; a malformed request (both `set` and `add`/`remove`, an item
    given twice) is not checked further. Replays as in `create_batch`.
    """
    _check_batch_size(requests)
    problems: defaultdict[int, list[Exception]] = defaultdict(list)
    malformed: set[int] = set()
    first_use: dict[ItemKey, int] = {}
    for index, request in enumerate(requests):
        found = _retag_shape_problems(request)
        if request.item in first_use:
            message = f"the item is also item {first_use[request.item]} of this call"
            found.append(FieldProblem("id", message))
        first_use.setdefault(request.item, index)
        if found:
            problems[index].append(InvalidContentError(found))
            malformed.add(index)
    keys = _usable_keys(requests, problems)
    keyed = {
        index: IdempotentRequest(key, RETAG_OPERATION, _retag_fingerprint(requests[index]))
        for index, key in keys.items()
        if index not in malformed
    }
    replays = await _claim(conn, actor, keyed, problems)
    pending = [i for i in range(len(requests)) if i not in replays and i not in malformed]
    locked = await lock_items(conn, [requests[index].item for index in pending])
    by_value = await tag_refs_by_value(
        conn,
        (
            value
            for index in pending
            for name in _TAG_LISTS
            for value in getattr(requests[index], name) or ()
        ),
    )
    changes: dict[int, Retag] = {}
    for index in pending:
        change = _checked_retag(requests[index], locked.get(requests[index].item), actor, by_value)
        if isinstance(change, Retag):
            changes[index] = change
        else:
            problems[index].extend(change)
    _raise_if(problems)
    tagged = await retag(conn, list(changes.values()))
    results = {
        index: ItemWrite(change.item, tagged[change.item].version, tagged[change.item].tags)
        for index, change in changes.items()
    }
    await idempotency.store(
        conn,
        actor.user_id,
        {keyed[index].key: _written(write) for index, write in results.items() if index in keyed},
    )
    results.update({index: _replayed(response) for index, response in replays.items()})
    return [results[index] for index in range(len(requests))]


def _checked_retag(
    request: RetagRequest,
    record: ItemRecord | None,
    actor: Actor,
    by_value: Mapping[str, TagRef],
) -> Retag | list[Exception]:
    """The change to make, or everything that stands in its way."""
    problems: list[Exception] = []
    problem = access_problem(request.item, record, actor)
    if problem is None and record is not None:
        problem = _version_problem(record, request.expected_version)
    if problem is not None:
        problems.append(problem)
    resolved: dict[str, frozenset[TagRef]] = {}
    for name in _TAG_LISTS:
        refs, unknown = _resolve(by_value, name, getattr(request, name))
        resolved[name] = refs
        if unknown is not None:
            problems.append(unknown)
    if problems or record is None:
        return problems
    removed = {ref.id for ref in resolved["remove"]}
    if request.set is not None:
        count = len({ref.id for ref in resolved["set"]} - removed)
    else:
        assert record.tags is not None, "the items loader reads whole records"
        count = len((set(record.tags) | {ref.id for ref in resolved["add"]}) - removed)
    if count > MAX_TAGS_PER_ITEM:
        return [TooManyTagsError(request.item, count)]
    return Retag(
        request.item,
        set=resolved["set"] if request.set is not None else None,
        add=resolved["add"],
        remove=resolved["remove"],
    )


WRITE_ERRORS: tuple[type[Exception], ...] = (
    ContentWriteError,
    UnknownTagsError,
    TooManyTagsError,
    ItemNotFoundError,
    VersionConflictError,
    IdempotencyError,
)
"""Every exception a write here raises on purpose."""
