"""Content writes announced to every worker, for live subscriptions (gallery/live/).

A write queues its events on `CHANNEL` inside its own transaction, so they exist only if
it commits, and every listener receives them in commit order. One line an item: its kind,
key, creator and whether it was private before the write (what a subscriber who may
have been shown it needs to be told it changed), never its content. A batch too large
for one notification (PostgreSQL's limit is 8,000 bytes) is split over several, all
queued in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.db.notifications import MAX_PAYLOAD_BYTES, notify
from gallery_gql.gallery.keys import ItemKey, Source

CHANNEL = "gallery_items"


class EventKind(Enum):
    CREATED = "C"
    RETAGGED = "R"
    UPDATED = "U"
    DELETED = "D"


@dataclass(frozen=True, slots=True)
class ItemEvent:
    kind: EventKind
    key: ItemKey
    creator_id: UUID
    was_private: bool
    """Private before the write (a new item: as created)."""

    def line(self) -> str:
        private = "1" if self.was_private else "0"
        return f"{self.kind.value} {int(self.key.source)} {self.key.id} {self.creator_id} {private}"

    @classmethod
    def parse(cls, line: str) -> ItemEvent:
        """ValueError for a line that is not an event's."""
        kind, source, item_id, creator, private = line.split(" ")
        if private not in ("0", "1"):
            raise ValueError(f"not a privacy flag: {private!r}")
        key = ItemKey(Source(int(source)), int(item_id))
        return cls(EventKind(kind), key, UUID(creator), private == "1")


def event_payloads(events: Iterable[ItemEvent]) -> list[str]:
    """The events as notification payloads, each within PostgreSQL's limit."""
    payloads: list[str] = []
    lines: list[str] = []
    size = 0
    for event in events:
        line = event.line()
        if lines and size + 1 + len(line) > MAX_PAYLOAD_BYTES:
            payloads.append("\n".join(lines))
            lines, size = [], 0
        size += len(line) + (1 if lines else 0)
        lines.append(line)
    if lines:
        payloads.append("\n".join(lines))
    return payloads


def parse_payload(payload: str) -> list[ItemEvent]:
    """The events of one notification; ValueError if any line is not an event's."""
    return [ItemEvent.parse(line) for line in payload.split("\n") if line]


async def announce_item_events(conn: AsyncConnection, events: Sequence[ItemEvent]) -> None:
    """Inside the writing transaction: every worker's subscribers hear of these items
    once it commits."""
    for payload in event_payloads(events):
        await notify(conn, CHANNEL, payload)
