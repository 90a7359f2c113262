"""The seeded users: `admin` first, then generated names, one user per ~350 items."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.streams import (
    ITEMS_FROM,
    USERS_FROM,
    Stream,
    pg_micros,
    random_uuids,
    stream_rng,
)

ITEMS_PER_USER = 350
MIN_USERS = 5


def default_users(items: int) -> int:
    return max(MIN_USERS, round(items / ITEMS_PER_USER))


_USER_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "cosmic", "crimson", "dusky", "eager", "fuzzy",
    "gentle", "golden", "hidden", "icy", "jolly", "lucky", "mellow", "misty", "nimble", "quiet",
    "rapid", "rustic", "silent", "silver", "sunny", "swift", "tidy", "velvet", "wild", "witty",
)  # fmt: skip
_USER_NOUNS = (
    "badger", "canvas", "comet", "crane", "easel", "falcon", "fern", "harbor", "heron", "lantern",
    "lynx", "maple", "meadow", "otter", "palette", "pixel", "quill", "raven", "river", "sketch",
    "sparrow", "summit", "thistle", "tiger", "willow", "wren",
)  # fmt: skip


@dataclass(frozen=True)
class Users:
    ids: list[uuid.UUID]
    usernames: list[str]
    emails: list[str]
    active: NDArray[np.bool_]
    created_us: NDArray[np.int64]


def build_users(count: int, seed: int) -> Users:
    """`admin` first (the only admin); unique usernames and emails for everyone."""
    rng = stream_rng(seed, Stream.USERS)
    ids = random_uuids(rng, count)
    adjectives = rng.integers(0, len(_USER_ADJECTIVES), count)
    nouns = rng.integers(0, len(_USER_NOUNS), count)
    names = ["admin"] + [
        f"{_USER_ADJECTIVES[adjectives[i]]}_{_USER_NOUNS[nouns[i]]}_{i:05d}"
        for i in range(1, count)
    ]
    active = rng.random(count) >= 0.03
    active[0] = True
    created = np.sort(rng.integers(pg_micros(USERS_FROM), pg_micros(ITEMS_FROM), count))
    return Users(ids, names[:count], [f"{n}@example.com" for n in names[:count]], active, created)
