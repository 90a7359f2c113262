"""Which tags each item carries, per profile, in CSR form per chunk of items."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.items import Items
from gallery_gql.ops.seed.streams import Stream, stream_rng
from gallery_gql.ops.seed.zipf_tags import (
    ADV_DISJOINT_A,
    ADV_DISJOINT_B,
    ADV_OLD_SKEW,
    ADV_TINY,
    ZipfTags,
)


@dataclass(frozen=True)
class Links:
    """A chunk's tags in CSR form: item i holds tags[indptr[i]:indptr[i+1]], ascending."""

    indptr: NDArray[np.int64]
    tags: NDArray[np.int32]


def _first_occurrences(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of each distinct key's first occurrence, ascending by key.

    (np.unique's return_index does the same but is much slower on large arrays.)
    """
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return order[first].astype(np.int64)


def _csr(item: NDArray[np.int64], tag: NDArray[np.int64], items: int, tags: int) -> Links:
    keys = item * tags + tag
    pairs = keys[_first_occurrences(keys)]  # sorted (item, tag) pairs, duplicates dropped
    counts = np.bincount(pairs // tags, minlength=items)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return Links(indptr, (pairs % tags).astype(np.int32))


GENONAUT_MAX_DRAW = 200


def genonaut_links(seed: int, chunk: int, size: int, leaves: NDArray[np.int32]) -> Links:
    """n = randint(0, 200), then min(n, #leaves) distinct leaves, uniformly."""
    rng = stream_rng(seed, Stream.LINKS, chunk)
    width = len(leaves)
    wanted = np.minimum(rng.integers(0, GENONAUT_MAX_DRAW + 1, size), width)
    shuffled = rng.permuted(np.tile(np.arange(width, dtype=np.int16), (size, 1)), axis=1)
    keep = np.arange(width)[None, :] < wanted[:, None]
    member = np.zeros((size, width), dtype=bool)
    member[np.nonzero(keep)[0], shuffled[keep]] = True
    indptr = np.concatenate(([0], np.cumsum(wanted))).astype(np.int64)
    return Links(indptr, leaves[np.nonzero(member)[1]])


ZIPF_MIN_PER_ITEM = 20
ZIPF_MAX_PER_ITEM = 80


def zipf_links(seed: int, chunk: int, tags: ZipfTags, extra: Links) -> Links:
    """~40 Zipf-weighted distinct leaves per item, plus this chunk's adversarial tags.

    Weighted sampling without replacement = draw with replacement and keep each item's
    first `wanted` distinct draws (overdrawn so shortfalls are rare; a short item keeps fewer).
    """
    rng = stream_rng(seed, Stream.LINKS, chunk)
    size = len(extra.indptr) - 1
    spread = np.rint(rng.gamma(2.0, 10.0, size)).astype(np.int64)  # mean 20, long right tail
    wanted = np.minimum(ZIPF_MIN_PER_ITEM + spread, ZIPF_MAX_PER_ITEM)
    draws = wanted * 2 + 8
    item = np.repeat(np.arange(size, dtype=np.int64), draws)
    leaf = np.searchsorted(tags.cdf, rng.random(len(item)), side="right")
    leaf = np.minimum(leaf, len(tags.cdf) - 1)
    first = np.sort(_first_occurrences(item * len(tags.cdf) + leaf))  # back in draw order
    item, leaf = item[first], leaf[first]
    starts = np.searchsorted(item, np.arange(size))
    rank = np.arange(len(item)) - starts[item]
    keep = rank < wanted[item]
    extra_item = np.repeat(np.arange(size, dtype=np.int64), np.diff(extra.indptr))
    all_item = np.concatenate((item[keep], extra_item))
    all_tag = np.concatenate((leaf[keep] + tags.first_leaf, extra.tags.astype(np.int64)))
    return _csr(all_item, all_tag, size, len(tags.tree.names))


def zipf_adversarial(items: Items, seed: int, tags: ZipfTags) -> Links:
    """Global placement of the adversarial tags, as CSR over all items.

    old-skew: every item among the oldest 2%; disjoint-a/b: ~5% each, never together;
    tiny-20: exactly 20 items (all items when there are fewer).
    """
    count = len(items)
    rng = stream_rng(seed, Stream.ADVERSARIAL)
    order = rng.permutation(count)
    share = round(count * 0.05)
    placements = {
        ADV_OLD_SKEW: np.arange(math.ceil(count * 0.02)),
        ADV_DISJOINT_A: order[:share],
        ADV_DISJOINT_B: order[share : 2 * share],
        ADV_TINY: rng.choice(count, size=min(20, count), replace=False),
    }
    item = np.concatenate([np.asarray(v, dtype=np.int64) for v in placements.values()])
    tag = np.concatenate(
        [np.full(len(v), tags.adversarial[k], dtype=np.int64) for k, v in placements.items()]
    )
    return _csr(item, tag, count, len(tags.tree.names))


def slice_links(links: Links, lo: int, hi: int) -> Links:
    start, stop = int(links.indptr[lo]), int(links.indptr[hi])
    return Links(links.indptr[lo : hi + 1] - start, links.tags[start:stop])
