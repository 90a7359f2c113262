"""Idempotency keys: a retried write returns the first attempt's result instead of
writing again.

A key belongs to one user and names one request: the operation and a SHA-256 of the
request's canonical JSON. Everything happens in the caller's write transaction:

1. `claim` inserts the keys before the write. A key already held by a transaction still
   in flight makes the insert wait for it (the primary key serializes concurrent
   twins); once that one commits, the key is found and its stored response replayed. If
   it rolls back, our insert goes through and we do the write ourselves.
2. The caller writes, then `store`s each claimed key's response.

So a key is never recorded without its write (both commit or neither does), and a failed
write leaves no key behind: the same request can simply be sent again. A key reused
with a different request or operation is refused. Entries older than `TTL` are ignored
(a claim takes them over) and `purge_expired` deletes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Interval, bindparam, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.params import any_text
from gallery_gql.db.tables import idempotency_keys
from gallery_gql.gallery.writes.errors import IdempotencyKeyReusedError, InvalidIdempotencyKeyError
from gallery_gql.gallery.writes.limits import MAX_IDEMPOTENCY_KEY_LENGTH

TTL = timedelta(hours=24)


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no insignificant whitespace."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def request_hash(request: Any) -> str:
    return hashlib.sha256(canonical_json(request)).hexdigest()


def check_key(key: str) -> str:
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKeyError(key)
    return key


@dataclass(frozen=True)
class IdempotentRequest:
    """One keyed request: `request` is its JSON-able content (without the key)."""

    key: str
    operation: str
    request: Any = field(repr=False)

    @property
    def hash(self) -> str:
        return request_hash(self.request)


_CLAIM = text(
    """INSERT INTO idempotency_keys (user_id, key, operation, request_hash, response)
    SELECT CAST(:user_id AS uuid), k.key, k.operation, k.request_hash, 'null'::jsonb
    FROM unnest(CAST(:keys AS text[]), CAST(:operations AS text[]),
                CAST(:hashes AS text[])) AS k(key, operation, request_hash)
    ORDER BY k.key
    ON CONFLICT (user_id, key) DO UPDATE
    SET operation = EXCLUDED.operation,
        request_hash = EXCLUDED.request_hash,
        response = EXCLUDED.response,
        created_at = now()
    WHERE idempotency_keys.created_at <= now() - CAST(:ttl AS interval)
    RETURNING key"""
)

_STORE = text(
    """UPDATE idempotency_keys AS k SET response = r.response
    FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS r(key text, response jsonb)
    WHERE k.user_id = CAST(:user_id AS uuid) AND k.key = r.key"""
)


async def claim(
    conn: AsyncConnection, user_id: UUID, requests: Sequence[IdempotentRequest]
) -> dict[str, Any]:
    """Claim every request's key for this transaction, in key order.

    Returns the stored response of each key that an earlier (committed) request already
    used, to be replayed; every other key is now held by this transaction and must get
    its response through `store` before commit. Raises IdempotencyKeyReusedError naming
    every key used with a different operation or request (nothing is replayed then),
    and ValueError when one key appears twice.
    """
    if not requests:
        return {}
    keys = [check_key(request.key) for request in requests]
    if len(set(keys)) != len(keys):
        raise ValueError("an idempotency key appears more than once")
    by_key = {request.key: request for request in requests}
    ordered = sorted(by_key)
    claimed = set(
        (
            await conn.execute(
                _CLAIM,
                {
                    "user_id": str(user_id),
                    "keys": ordered,
                    "operations": [by_key[key].operation for key in ordered],
                    "hashes": [by_key[key].hash for key in ordered],
                    "ttl": TTL,
                },
            )
        ).scalars()
    )
    taken = [key for key in ordered if key not in claimed]
    if not taken:
        return {}
    stmt = select(
        idempotency_keys.c.key,
        idempotency_keys.c.operation,
        idempotency_keys.c.request_hash,
        idempotency_keys.c.response,
    ).where(
        idempotency_keys.c.user_id == user_id,
        idempotency_keys.c.key == any_text("taken", taken),
    )
    stored = {row.key: row for row in await conn.execute(stmt)}
    replays: dict[str, Any] = {}
    reused: list[str] = []
    for key in taken:
        row = stored[key]  # the claim locked it: it cannot have gone
        request = by_key[key]
        if row.operation != request.operation or row.request_hash != request.hash:
            reused.append(key)
        replays[key] = row.response
    if reused:
        raise IdempotencyKeyReusedError(reused)
    return replays


async def store(conn: AsyncConnection, user_id: UUID, responses: Mapping[str, Any]) -> None:
    """Record the response of each key this transaction claimed."""
    if not responses:
        return
    payload = [{"key": key, "response": responses[key]} for key in sorted(responses)]
    await conn.execute(
        _STORE, {"user_id": str(user_id), "payload": canonical_json(payload).decode()}
    )


async def purge_expired(conn: AsyncConnection, ttl: timedelta = TTL) -> int:
    """Delete entries older than `ttl`; returns how many went."""
    cutoff = func.now() - bindparam("ttl", ttl, type_=Interval)
    stmt = delete(idempotency_keys).where(idempotency_keys.c.created_at <= cutoff)
    result = await conn.execute(stmt)
    return int(result.rowcount)
