"""Per-request DataLoaders, built inside the async context getter (they bind its loop)."""

from __future__ import annotations

from dataclasses import dataclass

from gallery_gql.api.loaders.content import ItemLoader, TagSetLoader
from gallery_gql.api.loaders.tags import TagLoaders
from gallery_gql.api.loaders.users import UserLoader
from gallery_gql.db.reads import ReadSource


@dataclass
class Loaders:
    items: ItemLoader
    tag_sets: TagSetLoader
    users: UserLoader
    tags: TagLoaders

    @classmethod
    def create(cls, engine: ReadSource) -> Loaders:
        return cls(
            items=ItemLoader(engine),
            tag_sets=TagSetLoader(engine),
            users=UserLoader(engine),
            tags=TagLoaders.create(engine),
        )

    def release(self) -> None:
        """Drop every cached result. A loader and its cached futures reference each other,
        so without this a request's rows (items, their tag arrays) die only in the cyclic
        collector: ~10,000 objects per 100-item page, and gen-2 passes of 20+ ms."""
        self.items.clear_all()
        self.tag_sets.clear_all()
        self.users.clear_all()
        self.tags.clear_all()
