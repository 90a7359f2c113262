"""A worker's live subscriptions, fed by its one LISTEN connection.

Writes announce their items on `item_events.CHANNEL` (committed writes only); the
worker's `NotificationListener` hands each payload to the hub, which queues the events
and wakes its delivery task. The task takes everything queued (up to `BATCH_EVENTS`
events), asks the primary in one statement per 32 distinct filters which of the written
items each subscriber's filter selects now (`query.live_match`, the read path's own
conditions), reads those items once, and offers each subscriber its deliveries in
commit order. When the listener stops (or a batch cannot be matched), events may have
been missed: every subscription ends with EventsInterruptedError, and new ones are
refused until the listener is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.db.dedicated import stop_task
from gallery_gql.db.notifications import NotificationListener
from gallery_gql.gallery.item_events import CHANNEL, EventKind, ItemEvent, parse_payload
from gallery_gql.gallery.live.events import LiveEvents, Unobserved
from gallery_gql.gallery.live.subscription import (
    Delivery,
    EventsInterruptedError,
    EventsUnavailableError,
    LiveError,
    Subscription,
    SubscriptionLimitError,
    could_have_shown,
)
from gallery_gql.gallery.lookups import fetch_items
from gallery_gql.gallery.query.filters import ContentFilter
from gallery_gql.gallery.query.live_match import matching_items
from gallery_gql.gallery.records import ItemRecord

log = logging.getLogger("gallery_gql.live")

BATCH_EVENTS = 1_000
"""Events matched together at most (they arrive in commit order; a backlog drains in
batches of this many)."""

MAX_PENDING_EVENTS = 100_000
"""Events waiting to be matched at most; a worker further behind than this drops them and
tells its subscribers (EventsInterruptedError), rather than holding writes without bound."""

FilterKey = tuple[ContentFilter, UUID | None]
"""A filter with its viewer (ContentFilter equality leaves the viewer out)."""


class LiveHub:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_subscriptions: int,
        queue_size: int,
        events: LiveEvents | None = None,
    ) -> None:
        self.engine = engine
        self.events: LiveEvents = events or Unobserved()
        """The primary (the events' writes are there; replicas may lag)."""
        self.max_subscriptions = max_subscriptions
        self.queue_size = queue_size
        self.listening = False
        self._subscriptions: set[Subscription] = set()
        self._pending: list[ItemEvent] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.processed = 0
        """Events handled since start (matched and offered, or none subscribed)."""
        self.batches = 0
        self.delivered = 0
        """Deliveries offered to subscribers since start."""

    def attach(self, listener: NotificationListener) -> None:
        """Hear the item channel on the worker's listener (before it starts)."""
        listener.subscribe(CHANNEL, self._received)
        listener.watch(self._listening)

    @property
    def subscriptions(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, flt: ContentFilter, on_overflow: Callable[[], None]) -> Subscription:
        """A subscription to the items `flt` selects; SubscriptionLimitError or
        EventsUnavailableError when the worker cannot take one."""
        if not self.listening:
            raise EventsUnavailableError("live events are briefly unavailable; retry shortly")
        if len(self._subscriptions) >= self.max_subscriptions:
            raise SubscriptionLimitError(
                f"this server serves at most {self.max_subscriptions} live subscriptions"
            )

        def overflowed() -> None:
            self.events.ended("slow", 1)
            on_overflow()

        subscription = Subscription(flt, self.queue_size, overflowed, self._subscriptions.discard)
        self._subscriptions.add(subscription)
        return subscription

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)
        self._end_all(EventsInterruptedError("the server is shutting down; subscribe again"))

    def _received(self, payload: str) -> None:
        try:
            self._pending.extend(parse_payload(payload))
        except ValueError:
            log.error("unreadable item notification; subscribers told to resubscribe")
            self._end_all(EventsInterruptedError("live events were interrupted; resubscribe"))
            return
        if len(self._pending) > MAX_PENDING_EVENTS:
            log.error("live events %d behind; subscribers told to resubscribe", len(self._pending))
            self._pending.clear()
            self._end_all(EventsInterruptedError("live events fell behind; resubscribe"))
            return
        self._wake.set()

    def _listening(self, listening: bool) -> None:
        self.listening = listening
        if not listening:
            self._pending.clear()
            self._end_all(
                EventsInterruptedError("live events were interrupted; read again and resubscribe")
            )

    def _end_all(self, error: LiveError) -> None:
        ending = list(self._subscriptions)
        for subscription in ending:
            subscription.end(error)
        if ending and isinstance(error, EventsInterruptedError):
            self.events.ended("interrupted", len(ending))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch = self._pending[:BATCH_EVENTS]
            del self._pending[:BATCH_EVENTS]
            if self._pending:
                self._wake.set()
            try:
                if batch and self._subscriptions:
                    await self._deliver(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live event batch failed; subscribers told to resubscribe")
                self._end_all(EventsInterruptedError("live events were interrupted; resubscribe"))
            self.processed += len(batch)

    async def _deliver(self, batch: Sequence[ItemEvent]) -> None:
        self.batches += 1
        groups: dict[FilterKey, list[Subscription]] = {}
        for subscription in self._subscriptions:
            key = (subscription.filter, subscription.viewer_id)
            groups.setdefault(key, []).append(subscription)
        filters = [subscriptions[0].filter for subscriptions in groups.values()]
        keys = sorted({event.key for event in batch})
        async with self.engine.connect() as conn:
            matched = await matching_items(conn, filters, keys)
            wanted = sorted(set().union(*matched))
            records = await fetch_items(conn, wanted) if wanted else {}
        offered = self.delivered
        planned: list[tuple[list[Subscription], int, ItemEvent, ItemRecord | None]] = []
        audience: Counter[tuple[int, bool]] = Counter()
        for flt, selected, subscribers in zip(filters, matched, groups.values(), strict=True):
            for n, event in enumerate(batch):
                record = records.get(event.key) if event.key in selected else None
                if record is not None and not record.visible_to(flt.viewer_id):
                    record = None  # never so (the match tests privacy): a second guard
                if record is None and (
                    event.kind is EventKind.CREATED or not could_have_shown(flt, event)
                ):
                    continue
                planned.append((subscribers, n, event, record))
                audience[n, record is not None] += len(subscribers)
        # One event, with its item or without, reads alike whatever the filter that chose
        # it: its deliveries share one `renders` (and so, across filters, one execution).
        renders: dict[tuple[int, bool], dict[Any, Any]] = {}
        for subscribers, n, event, record in planned:
            slot = (n, record is not None)
            delivery = Delivery(
                event.kind,
                event.key,
                record,
                self.batches,
                audience[slot],
                renders.setdefault(slot, {}),
            )
            for subscription in subscribers:
                subscription.offer(delivery)
                self.delivered += 1
        self.events.delivered(self.delivered - offered)
