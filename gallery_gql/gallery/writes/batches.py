"""Batches of creates and retags: all or nothing, every request checked and every problem
reported at once (`BatchRejectedError`, problems by request index), idempotency keys
claimed before writing and their responses stored with the write."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.gallery.item_events import EventKind, ItemEvent, announce_item_events
from gallery_gql.gallery.keys import ItemKey, Source
from gallery_gql.gallery.records import ItemRecord
from gallery_gql.gallery.writes import idempotency
from gallery_gql.gallery.writes.access import (
    access_problem,
    lock_items,
    read_items,
    version_problem,
)
from gallery_gql.gallery.writes.errors import (
    BatchRejectedError,
    BatchTooLargeError,
    FieldProblem,
    IdempotencyKeyReusedError,
    InvalidContentError,
    InvalidIdempotencyKeyError,
    TooManyTagsError,
    UnknownTagValuesError,
)
from gallery_gql.gallery.writes.idempotency import IdempotentRequest
from gallery_gql.gallery.writes.inputs import Actor, CreateRequest, ItemWrite, NewItem, RetagRequest
from gallery_gql.gallery.writes.items import create_items
from gallery_gql.gallery.writes.limits import MAX_BATCH, MAX_TAG_VALUES, MAX_TAGS_PER_ITEM
from gallery_gql.gallery.writes.tag_refs import TagRef, tag_refs_by_value
from gallery_gql.gallery.writes.tagging import Retag, retag
from gallery_gql.gallery.writes.validation import new_item_problems, tag_list_problems

CREATE_OPERATION = "createContent"
RETAG_OPERATION = "retagContent"


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
        found = new_item_problems(request.item) + tag_list_problems("tags", request.tag_values)
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
        found += tag_list_problems(name, getattr(request, name))
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
    denied = await _denied_replays(conn, actor, requests, replays)
    for index, problem in denied.items():
        problems[index].append(problem)
        del replays[index]
    pending = [
        i for i in range(len(requests)) if i not in replays and i not in malformed | set(denied)
    ]
    locked = await lock_items(conn, [requests[index].item for index in pending], actor)
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
    tagged = await retag(conn, list(changes.values()), locked)
    await announce_item_events(
        conn,
        [
            ItemEvent(EventKind.RETAGGED, key, locked[key].creator_id, locked[key].is_private)
            for key in (change.item for change in changes.values())
        ],
    )
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


async def _denied_replays(
    conn: AsyncConnection,
    actor: Actor,
    requests: Sequence[RetagRequest],
    replays: Mapping[int, Any],
) -> dict[int, Exception]:
    """Replays the actor may no longer make: access is checked as for a first request (an
    admin since demoted replaying a key must not read a private item as it is now). An
    item deleted since is still replayed: the stored response is all it shows."""
    if not replays:
        return {}
    current = await read_items(conn, [requests[index].item for index in replays])
    denied = {}
    for index in replays:
        key = requests[index].item
        record = current.get(key)
        problem = access_problem(key, record, actor) if record is not None else None
        if problem is not None:
            denied[index] = problem
    return denied


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
        problem = version_problem(record, request.expected_version)
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
