"""A request's rows die by reference counting when its response is sent, not in the
cyclic collector, whose full passes over a page's worth of objects cost 20+ ms
(docs/decisions.md, "Gateway per-request cost")."""

from __future__ import annotations

import gc

from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.gallery.records import ItemRecord, TagRecord
from tests.conftest import GraphQLClient
from tests.factories import build_gallery

PAGE = "{ contentItems(first: 100) { edges { node { id title tags { name } } } } }"


async def test_a_page_leaves_no_cycles_holding_its_rows(
    engine: AsyncEngine, gql: GraphQLClient
) -> None:
    await build_gallery(engine)
    await gql.data(PAGE)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, to look at it
    try:
        for _ in range(3):
            assert len((await gql.data(PAGE))["contentItems"]["edges"]) == 100
        gc.collect()
        rows = [o for o in gc.garbage if isinstance(o, ItemRecord | TagRecord)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # Without Loaders.release the loaders' futures and the loaders form cycles that hold
    # every item and tag row of the page.
    assert rows == []
