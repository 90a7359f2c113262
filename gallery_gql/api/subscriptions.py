"""The Subscription root: live events of committed writes, over graphql-transport-ws.

Each subscription is bounded: per WebSocket (`LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION`) and
per worker (`LIVE_MAX_SUBSCRIPTIONS_PER_WORKER`), both `TOO_MANY_SUBSCRIPTIONS`; a
subscriber `LIVE_QUEUE_SIZE` events behind has its WebSocket closed with 1013 (try again
later); when the worker's database listener is lost, every subscription ends with
`EVENTS_INTERRUPTED` (read again, subscribe again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

import strawberry

from gallery_gql.api.content_query import ContentArgs, build_content_filter
from gallery_gql.api.context import Ctx, GalleryContext
from gallery_gql.api.errors import ErrorCode, PublicError
from gallery_gql.api.live_renders import shared_event
from gallery_gql.api.types.enums import TagMatchMode
from gallery_gql.api.types.filter_args import (
    CollectionsArg,
    CreatorArg,
    ExcludeTagNamesArg,
    ExcludeTagsArg,
    MatchArg,
    SearchArg,
    SourcesArg,
    TagNamesArg,
    TagsArg,
)
from gallery_gql.api.types.live import ContentItemEvent
from gallery_gql.db.reads import run_read
from gallery_gql.gallery.live import subscription as live
from gallery_gql.gallery.live.subscription import (
    EventsInterruptedError,
    EventsUnavailableError,
    LiveError,
    SubscriptionLimitError,
)
from gallery_gql.gallery.query.filters import ContentFilter

SLOW_CONSUMER_CLOSE = 1013
"""WebSocket close code: try again later (the client fell too far behind)."""

_closing: set[asyncio.Task[None]] = set()


def _too_many(message: str) -> PublicError:
    return PublicError(message, ErrorCode.TOO_MANY_SUBSCRIPTIONS)


def _close_slow(context: GalleryContext) -> None:
    websocket = context.websocket
    if websocket is None:
        return

    async def close() -> None:
        with contextlib.suppress(Exception):
            await websocket.close(SLOW_CONSUMER_CLOSE, "too slow: events were dropped")

    task = asyncio.create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def _start(context: GalleryContext, flt: ContentFilter) -> live.Subscription:
    hub = context.live
    if hub is None:
        raise PublicError("live events are not served here", ErrorCode.SERVICE_UNAVAILABLE)
    limit = context.settings.live_max_subscriptions_per_connection
    if context.live_subscriptions >= limit:
        raise _too_many(f"a connection holds at most {limit} live subscriptions")
    try:
        return hub.subscribe(flt, lambda: _close_slow(context))
    except SubscriptionLimitError as exc:
        raise _too_many(str(exc)) from None
    except EventsUnavailableError as exc:
        raise PublicError(str(exc), ErrorCode.EVENTS_INTERRUPTED) from None


def _public(error: LiveError) -> PublicError:
    if isinstance(error, EventsInterruptedError):
        return PublicError(str(error), ErrorCode.EVENTS_INTERRUPTED)
    return PublicError(str(error), ErrorCode.SERVICE_UNAVAILABLE)


@strawberry.type(description="Live events of committed writes (graphql-transport-ws on /graphql).")
class Subscription:
    @strawberry.subscription(
        description="Each committed create, retag, update or delete of an item the filter "
        "selects (the arguments of `contentItems`, without sort or paging): the item when "
        "it matches after the write, else only its id (it left the filter, or was "
        "deleted). Private items reach only their creator. Authenticate with the "
        '`connection_init` payload `{"Authorization": "Bearer <token>"}`.'
    )
    async def content_item_events(
        self,
        info: Ctx,
        tags: TagsArg = None,
        tag_names: TagNamesArg = None,
        match: MatchArg = TagMatchMode.ANY,
        exclude_tags: ExcludeTagsArg = None,
        exclude_tag_names: ExcludeTagNamesArg = None,
        creator: CreatorArg = None,
        sources: SourcesArg = None,
        collections: CollectionsArg = None,
        search: SearchArg = None,
    ) -> AsyncGenerator[ContentItemEvent, None]:
        context = info.context
        args = ContentArgs(
            tags=tags,
            tag_names=tag_names,
            match=match,
            exclude_tags=exclude_tags,
            exclude_tag_names=exclude_tag_names,
            creator=creator,
            sources=sources,
            collections=collections,
            search=search,
        )
        flt, _stats = await run_read(
            context.reads, lambda conn: build_content_filter(conn, args, context)
        )
        subscription = _start(context, flt)
        context.live_subscriptions += 1
        try:
            async for delivery in subscription.deliveries():
                # A subscription outlives any cache's validity: each batch of events
                # starts with empty loaders (emptied, not rebuilt: building the loaders
                # cost 79 us, a third of a delivery's server time).
                if delivery.batch != context.live_batch:
                    context.live_batch = delivery.batch
                    context.loaders.release()
                yield shared_event(delivery)
        except LiveError as error:
            raise _public(error) from None
        finally:
            context.live_subscriptions -= 1
            subscription.close()
