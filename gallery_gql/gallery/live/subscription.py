"""One live subscription: a filter and a bounded queue of what it is to be sent.

The hub offers deliveries without waiting; a subscriber that lets `queue_size` of them
pile up (its client reads slower than events arrive) is dropped and `on_overflow` is
called, so no worker buffers without bound for a client that does not keep up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from gallery_gql.gallery.item_events import EventKind, ItemEvent
from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.query.filters import ContentFilter, Whose
from gallery_gql.gallery.records import ItemRecord


class LiveError(Exception):
    """Why a subscription cannot start or go on."""


class SubscriptionLimitError(LiveError):
    """The worker serves as many subscriptions as it may."""


class EventsUnavailableError(LiveError):
    """The worker is not listening for writes (its LISTEN connection is down)."""


class EventsInterruptedError(LiveError):
    """Events may have been missed (the LISTEN connection was lost, or a batch could not
    be matched): the subscriber should read again and subscribe again."""


class SlowConsumerError(LiveError):
    """The subscriber fell `queue_size` deliveries behind and was dropped."""


@dataclass(frozen=True, slots=True)
class Delivery:
    kind: EventKind
    key: ItemKey
    item: ItemRecord | None
    """The item as it is after the write, when the filter selects it; None otherwise
    (it left the filter, was deleted, or is not the subscriber's to see any more)."""
    batch: int = 0
    """Which of the hub's batches it came in (records read together, in one snapshot)."""
    subscribers: int = 1
    """How many subscriptions the batch hands this event as it is here (with its item or
    without), whatever their filters: the ones that share `renders`."""
    renders: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What a subscriber's server made of the event, kept for the others: one mapping
    for all the batch's deliveries of the event with its item, one for those without
    (`api/live_renders.py`)."""


def could_have_shown(flt: ContentFilter, event: ItemEvent) -> bool:
    """Whether the filter could have selected the item before the write: it passes every
    condition on what a write never changes (source, creator) and was visible to the
    viewer. Only such subscribers hear of an item that does not match after the write."""
    if flt.matches_nothing or event.key.source not in flt.sources:
        return False
    creator, viewer = event.creator_id, flt.viewer_id
    if event.was_private and creator != viewer:
        return False
    if flt.creator_id is not None and creator != flt.creator_id:
        return False
    if flt.exclude_creator_id is not None and creator == flt.exclude_creator_id:
        return False
    whose = flt.whose(event.key.source)
    if whose is Whose.VIEWER:
        return creator == viewer
    if whose is Whose.OTHERS:
        return creator != viewer
    return True


class Subscription:
    def __init__(
        self,
        flt: ContentFilter,
        queue_size: int,
        on_overflow: Callable[[], None],
        on_close: Callable[[Subscription], None],
    ) -> None:
        self.filter = flt
        self.queue_size = queue_size
        self._queue: asyncio.Queue[Delivery | LiveError] = asyncio.Queue()
        self._on_overflow = on_overflow
        self._on_close = on_close
        self.closed = False

    @property
    def viewer_id(self) -> UUID | None:
        return self.filter.viewer_id

    def offer(self, delivery: Delivery) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= self.queue_size:
            self.end(SlowConsumerError(f"more than {self.queue_size} events behind"))
            self._on_overflow()
            return
        self._queue.put_nowait(delivery)

    def end(self, error: LiveError) -> None:
        """No more deliveries: the consumer gets `error` after what it has queued."""
        if not self.closed:
            self.close()
            self._queue.put_nowait(error)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close(self)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        """Deliveries in commit order until the subscription ends (its error raised)."""
        while True:
            item = await self._queue.get()
            if isinstance(item, LiveError):
                raise item
            yield item
