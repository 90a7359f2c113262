"""The per-request context: settings, engines, the request's reads, viewer and loaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from uuid import UUID

from asgi_correlation_id import correlation_id
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.websockets import WebSocket
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from gallery_gql.api.errors import unauthenticated
from gallery_gql.api.hidden_lookups import HiddenLookups
from gallery_gql.api.loaders import Loaders
from gallery_gql.db.routing import ReadRoute
from gallery_gql.gallery.live.hub import LiveHub
from gallery_gql.gallery.query.tag_stats import TagDirectory
from gallery_gql.gallery.records import UserRecord
from gallery_gql.settings import Settings


@dataclass
class GalleryContext(BaseContext):
    settings: Settings
    engine: AsyncEngine
    """Transactional: the write path."""
    read_engine: AsyncEngine
    """Same pool, autocommit: single-statement reads on the primary."""
    reads: ReadRoute
    """Where this request's reads run: a replica when one qualifies (db/routing.py)."""
    loaders: Loaders
    tag_directory: TagDirectory
    """Process-wide: filter tags' keys and counts (see TagDirectory)."""
    viewer: UserRecord | None = None
    client: str = "unknown"
    """The client's address (a configured proxy's X-Forwarded-For, else the peer)."""
    hidden_lookups: HiddenLookups | None = None
    """Process-wide: misses of lookups by id per client (None: not limited)."""
    live: LiveHub | None = None
    """Process-wide: the worker's live subscriptions (None: not served)."""
    websocket: WebSocket | None = None
    """The WebSocket a subscription runs on (None over HTTP)."""
    live_subscriptions: int = 0
    """Live subscriptions this WebSocket holds (the context lives as long as it)."""
    live_batch: int = 0
    """The live batch the loaders' caches were last dropped for (api/subscriptions.py)."""
    request_id: str = field(default_factory=lambda: correlation_id.get() or uuid.uuid4().hex)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def viewer_id(self) -> UUID | None:
        return self.viewer.id if self.viewer else None

    def require_viewer(self) -> UserRecord:
        if self.viewer is None:
            raise unauthenticated("this requires a signed-in viewer (Authorization: Bearer)")
        return self.viewer


Ctx = Info[GalleryContext, None]
"""What a resolver's `info` is: its context is the request's GalleryContext."""
