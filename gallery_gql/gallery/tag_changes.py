"""Tag writes announced to every worker, so each drops what it keeps of those tags.

A tag write queues a notification on `CHANNEL` in its own transaction (it is delivered
only if the write commits); every worker's listener (db/notifications.py) hands the
payload to `forget_announced`. The payload is the changed tags' UUIDs, comma-separated,
or `*` (every tag) when they would not fit in one notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.notifications import MAX_PAYLOAD_BYTES, NotificationListener, notify
from gallery_gql.gallery.query.tag_stats import TagDirectory

CHANNEL = "gallery_tags"
EVERY_TAG = "*"


def tag_change_payload(ids: Iterable[UUID]) -> str:
    payload = ",".join(sorted({str(tag_id) for tag_id in ids}))
    return payload if len(payload) <= MAX_PAYLOAD_BYTES else EVERY_TAG


async def announce_tag_change(conn: AsyncConnection, ids: Iterable[UUID]) -> None:
    """Inside the writing transaction: every worker forgets these tags once it commits."""
    await notify(conn, CHANNEL, tag_change_payload(ids))


def forget_announced(directory: TagDirectory, payload: str) -> None:
    """Apply one notification to a worker's directory (anything unreadable: forget all)."""
    if payload.strip() == EVERY_TAG:
        directory.forget()
        return
    try:
        ids = [UUID(part) for part in payload.split(",") if part.strip()]
    except ValueError:
        directory.forget()
        return
    directory.forget(ids)


def listen_for_tag_changes(url: str, directory: TagDirectory) -> NotificationListener:
    """A worker's listener on the primary at `url`, keeping `directory` current (start it).
    Until it listens, and whenever it stops, the directory keeps answers only briefly."""
    listener = NotificationListener(url)
    directory.listening(False)
    listener.subscribe(CHANNEL, lambda payload: forget_announced(directory, payload))
    listener.watch(directory.listening)
    return listener
