"""With `trusted_documents_only`, the socket runs only the trusted documents, as HTTP does."""

from __future__ import annotations

import pytest

from gallery_gql.api.documents.manifest import trusted_documents
from gallery_gql.settings import Settings
from tests.live.client import live_client
from tests.live.conftest import Gallery, Workers, until


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trusted_documents_only": True})


def _gallery_live() -> str:
    [text] = [text for text in trusted_documents().values() if "GalleryLive" in text]
    return text


async def test_only_trusted_subscriptions_run(gallery: Gallery, workers: Workers) -> None:
    async with live_client(workers.urls[0], gallery.tokens[1]) as client:
        await client.subscribe()  # a document of its own, not the page's
        message = await client.receive()
        assert message["type"] == "error", message
        [error] = message["payload"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
        assert workers.hub(0).subscriptions == 0
        await client.subscribe({"match": "ANY"}, query=_gallery_live())
        await until(lambda: workers.hub(0).subscriptions == 1)
