"""What to seed (`SeedPlan`) and the data it yields, generated in memory (`Dataset`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.items import Items, build_items
from gallery_gql.ops.seed.links import (
    Links,
    genonaut_links,
    slice_links,
    zipf_adversarial,
    zipf_links,
)
from gallery_gql.ops.seed.streams import chunk_bounds
from gallery_gql.ops.seed.tags import TagTree, genonaut_tags
from gallery_gql.ops.seed.users import Users, build_users, default_users
from gallery_gql.ops.seed.zipf_tags import zipf_tags

Profile = Literal["genonaut", "zipf"]


class SeedError(RuntimeError):
    """The database cannot be seeded (it is not empty, or the plan is invalid)."""


@dataclass(frozen=True)
class SeedPlan:
    profile: Profile
    items: int
    users: int | None = None
    seed: int = 42

    def __post_init__(self) -> None:
        if self.profile not in ("genonaut", "zipf"):
            raise SeedError(f"unknown profile {self.profile!r}")
        if self.items < 0:
            raise SeedError("items must be >= 0")
        if self.users is not None and self.users < 1:
            raise SeedError("users must be >= 1")
        if self.seed < 0:
            raise SeedError("seed must be >= 0")

    @property
    def user_count(self) -> int:
        return self.users if self.users is not None else default_users(self.items)


@dataclass(frozen=True)
class Dataset:
    users: Users
    tags: TagTree
    items: Items
    links: list[Links]  # one per chunk of items (streams.CHUNK_ITEMS)

    @property
    def link_total(self) -> int:
        return sum(len(links.tags) for links in self.links)

    def tag_counts(self) -> NDArray[np.int64]:
        """Items per [source, is_private, tag index]."""
        width = len(self.tags.names)
        flat = np.zeros(4 * width, dtype=np.int64)
        for (lo, hi), links in zip(chunk_bounds(len(self.items)), self.links, strict=True):
            slot = self.items.source[lo:hi].astype(np.int64) * 2 + self.items.private[lo:hi]
            slots = np.repeat(slot, np.diff(links.indptr)) * width + links.tags
            flat += np.bincount(slots, minlength=4 * width)
        return flat.reshape(2, 2, width)


def build_dataset(plan: SeedPlan) -> Dataset:
    users = build_users(plan.user_count, plan.seed)
    items = build_items(plan.items, plan.user_count, plan.seed)
    bounds = chunk_bounds(plan.items)
    if plan.profile == "genonaut":
        tree, leaves = genonaut_tags(plan.seed)
        links = [genonaut_links(plan.seed, c, hi - lo, leaves) for c, (lo, hi) in enumerate(bounds)]
        return Dataset(users, tree, items, links)
    zipf = zipf_tags(plan.items, plan.seed)
    extra = zipf_adversarial(items, plan.seed, zipf)
    links = [
        zipf_links(plan.seed, c, zipf, slice_links(extra, lo, hi))
        for c, (lo, hi) in enumerate(bounds)
    ]
    return Dataset(users, zipf.tree, items, links)
