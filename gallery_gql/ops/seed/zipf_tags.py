"""The long-tail (zipf) profile's tags: Zipf-weighted leaves and the adversarial tags."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.streams import Stream, stream_rng
from gallery_gql.ops.seed.tags import TagTree, build_tree

ZIPF_EXPONENT = 1.1
ZIPF_MIN_TAGS = 2000
ZIPF_MAX_TAGS = 20_000
_ZIPF_TREE = {
    "topic": ("subject", "setting", "creature", "object"),
    "look": ("style", "medium", "lighting", "palette", "camera", "mood"),
    "meta": ("era", "artist", "adversarial"),
}
ADV_OLD_SKEW = "adv-old-skew"
ADV_DISJOINT_A = "adv-disjoint-a"
ADV_DISJOINT_B = "adv-disjoint-b"
ADV_TINY = "adv-tiny-20"
ADVERSARIAL_TAGS = (ADV_OLD_SKEW, ADV_DISJOINT_A, ADV_DISJOINT_B, ADV_TINY)


def zipf_tag_count(items: int) -> int:
    return min(ZIPF_MAX_TAGS, max(ZIPF_MIN_TAGS, items // 50))


@dataclass(frozen=True)
class ZipfTags:
    tree: TagTree
    first_leaf: int  # tag index of the first Zipf-weighted leaf
    cdf: NDArray[np.float64]  # cumulative draw probability over leaves first_leaf..
    adversarial: dict[str, int]  # name -> tag index


def zipf_tags(items: int, seed: int) -> ZipfTags:
    """A shallow DAG: a few roots, categories, and Zipf leaves each under one category.

    Leaf positions are shuffled against popularity so tag_key says nothing about frequency.
    """
    count = zipf_tag_count(items)
    roots = list(_ZIPF_TREE)
    categories = [(cat, root) for root in roots for cat in _ZIPF_TREE[root]]
    plain = [cat for cat, _ in categories if cat != "adversarial"]
    rank_of = stream_rng(seed, Stream.TAGS, 1).permutation(count)  # position -> rank - 1
    named: list[tuple[str, dict[str, object]]] = [(r, {"kind": "root"}) for r in roots]
    named += [(c, {"kind": "category"}) for c, _ in categories]
    leaves = [(f"{plain[p % len(plain)]}-{p:05d}", plain[p % len(plain)]) for p in range(count)]
    named += [
        (name, {"kind": "leaf", "rank": int(rank_of[p]) + 1}) for p, (name, _) in enumerate(leaves)
    ]
    named += [(name, {"kind": "adversarial"}) for name in ADVERSARIAL_TAGS]
    edges = [*categories, *leaves, *((name, "adversarial") for name in ADVERSARIAL_TAGS)]
    tree = build_tree(seed, named, edges)
    weights = (rank_of + 1.0) ** -ZIPF_EXPONENT
    cdf = np.cumsum(weights / weights.sum())
    first_leaf = len(roots) + len(categories)
    adversarial = {name: first_leaf + count + i for i, name in enumerate(ADVERSARIAL_TAGS)}
    return ZipfTags(tree, first_leaf, cdf, adversarial)
