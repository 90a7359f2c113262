"""The fixed, seeded query mix: one class per shape of request a user can send.

Tags are picked from the exact per-tag counts, so the same dataset always yields the
same classes: the most and least common tags, random mid tags, and the viewer with the
most items (for ME / OTHERS).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gallery_gql.gallery.query.filters import Sort, TagMatch


@dataclass(frozen=True)
class QueryClass:
    name: str
    tags: tuple[int, ...] = ()
    match: TagMatch = TagMatch.ANY
    exclude: tuple[int, ...] = ()
    sort: Sort = Sort.NEWEST
    size: int = 25
    page: int = 1  # pages followed by cursor before the measured one
    backward: bool = False
    creator: str | None = None  # "ME" | "OTHERS"
    collections: tuple[str, ...] | None = None  # ContentCollection names
    tag_names: bool = False  # HTTP only: also fetch `tags { name }`
    baselines: bool = True  # whether Genonaut's approaches can express it
    notes: str = field(default="", compare=False)

    @property
    def signed_in(self) -> bool:
        """Asked by the corpus's viewer (whose own items `ME` and the USER_* collections
        mean); other classes are anonymous."""
        return self.creator is not None or self.collections is not None


@dataclass(frozen=True)
class Corpus:
    """What the classes are drawn from."""

    by_count: list[tuple[int, int]]  # (tag_key, items) most common first, used tags only
    viewer: UUID


async def load_corpus(conn: AsyncConnection) -> Corpus:
    rows = (
        await conn.execute(
            text(
                "SELECT tag_key, sum(items) AS n FROM tag_counts GROUP BY tag_key"
                " HAVING sum(items) > 0 ORDER BY n DESC, tag_key"
            )
        )
    ).all()
    viewer = await conn.scalar(
        text(
            "SELECT creator_id FROM content_items_auto GROUP BY creator_id"
            " ORDER BY count(*) DESC, creator_id LIMIT 1"
        )
    )
    if not rows or viewer is None:
        raise RuntimeError("the database holds no tagged items: seed it first")
    return Corpus([(int(r.tag_key), int(r.n)) for r in rows], viewer)


def build_classes(corpus: Corpus, seed: int = 7) -> list[QueryClass]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
    keys = [key for key, _ in corpus.by_count]
    popular, rare = keys[0], keys[-1]
    mid = keys[len(keys) // 4 : max(len(keys) // 4 + 1, 3 * len(keys) // 4)] or keys

    def pick(k: int) -> tuple[int, ...]:
        return tuple(rng.sample(mid, min(k, len(mid))))

    return [
        QueryClass("no filter"),
        QueryClass("1 popular tag", (popular,)),
        QueryClass("1 rare tag", (rare,)),
        QueryClass("ALL 2", pick(2), TagMatch.ALL),
        QueryClass("ALL 5", pick(5), TagMatch.ALL),
        QueryClass("ALL 20", pick(20), TagMatch.ALL),
        QueryClass("ANY 3", pick(3)),
        QueryClass("ANY 20", pick(20)),
        QueryClass("rare + popular ALL", (rare, popular), TagMatch.ALL),
        QueryClass("tags + exclude", pick(2), TagMatch.ALL, exclude=pick(1)),
        QueryClass("ME + tag", (popular,), creator="ME", baselines=False),
        QueryClass("OTHERS + tag", (popular,), creator="OTHERS", baselines=False),
        QueryClass("TOP_RATED rare", (rare,), sort=Sort.TOP_RATED),
        QueryClass("TOP_RATED popular", (popular,), sort=Sort.TOP_RATED),
        QueryClass("deep page 50, 1 tag", (popular,), page=50),
        QueryClass("deep page 50, ALL 2", pick(2), TagMatch.ALL, page=50),
        QueryClass("backward page, 1 tag", (popular,), backward=True, baselines=False),
        QueryClass("100 per page, ALL 2", pick(2), TagMatch.ALL, size=100),
        QueryClass("25 + tag names, 1 tag", (popular,), tag_names=True, baselines=False),
        # Appended on 2026-11-25, so the picks above stay as in earlier runs: by rating and by
        # creator, the shapes chosen by count (docs/decisions.md) meet mid tags too.
        QueryClass("TOP_RATED mid tag", pick(1), sort=Sort.TOP_RATED),
        QueryClass("TOP_RATED ALL 2", pick(2), TagMatch.ALL, sort=Sort.TOP_RATED),
        QueryClass("ME + mid tag", pick(1), creator="ME", baselines=False),
        # Appended on 2026-12-04: the gallery's collections, a diagonal (my regular items
        # and the community's auto-generated ones), bare and with tags.
        QueryClass("collections diagonal", collections=_DIAGONAL, baselines=False),
        QueryClass(
            "collections diagonal + tag", (popular,), collections=_DIAGONAL, baselines=False
        ),
        QueryClass(
            "collections diagonal + mid tag", pick(1), collections=_DIAGONAL, baselines=False
        ),
        QueryClass(
            "community collections, ALL 2",
            pick(2),
            TagMatch.ALL,
            collections=("COMMUNITY_REGULAR", "COMMUNITY_AUTO"),
            baselines=False,
        ),
    ]


_DIAGONAL = ("USER_REGULAR", "COMMUNITY_AUTO")
