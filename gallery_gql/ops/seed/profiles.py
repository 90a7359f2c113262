"""The synthetic distributions behind seeding: pure numpy/Python, no database.

Everything is drawn from generators seeded by `(seed, stream, chunk)`, so a plan always
yields the same data, and the per-chunk streams keep that true however the loader batches.
Items are generated in fixed chunks of `CHUNK_ITEMS` global positions.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Profile = Literal["genonaut", "zipf"]

CHUNK_ITEMS = 20_000
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
USERS_FROM = datetime(2025, 4, 1, tzinfo=UTC)
ITEMS_FROM = datetime(2025, 5, 1, tzinfo=UTC)
ITEMS_UNTIL = datetime(2025, 10, 1, tzinfo=UTC)  # exclusive: the last day is 2025-09-30
TAGS_CREATED = datetime(2025, 4, 1, tzinfo=UTC)
REGULAR_SHARE = 0.055
PRIVATE_SHARE = 0.10
ITEMS_PER_USER = 350
MIN_USERS = 5


class Stream(IntEnum):
    USERS = 1
    TAGS = 2
    ITEMS = 3
    LINKS = 4
    TEXT = 5
    ADVERSARIAL = 6


def stream_rng(seed: int, stream: Stream, *extra: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(stream), *extra])


def pg_micros(moment: datetime) -> int:
    """Microseconds since PostgreSQL's epoch, the unit of binary timestamps."""
    delta = moment - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def random_uuids(rng: np.random.Generator, count: int) -> list[uuid.UUID]:
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4) for i in range(count)]


def default_users(items: int) -> int:
    return max(MIN_USERS, round(items / ITEMS_PER_USER))


# -- users --------------------------------------------------------------------------------

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


# -- tags ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagTree:
    """All tags in tag_key order (tag_key = index + 1) and the DAG over them."""

    ids: list[uuid.UUID]
    names: list[str]
    metadata: list[str]
    edges: list[tuple[int, int]]  # (child index, parent index)


_GENONAUT_TREE: dict[str, dict[str, tuple[str, ...]]] = {
    "art-style": {
        "traditional-media": (
            "watercolor", "oil-painting", "ink-wash", "charcoal", "pastel", "gouache", "acrylic",
        ),
        "digital-media": ("3D-render", "pixel-art", "vector-art", "digital-painting", "low-poly"),
        "illustration": ("anime", "manga", "cartoon", "comic-book", "chibi", "storybook"),
        "art-movement": (
            "impressionism", "surrealism", "art-nouveau", "art-deco", "cubism", "pop-art",
        ),
        "photography": (
            "photorealistic", "film-grain", "black-and-white", "polaroid", "long-exposure",
        ),
        "era": ("vintage", "retro", "futuristic"),
        "mood": ("dreamy", "dark", "whimsical"),
    },
    "subject": {
        "people": ("portrait", "self-portrait", "crowd", "child", "elderly"),
        "animals": ("cat", "dog", "bird", "horse"),
        "creatures": ("dragon", "unicorn", "robot", "alien"),
        "nature": ("landscape", "forest", "mountains", "ocean", "flowers"),
        "urban": ("cityscape", "street", "architecture", "interior"),
        "fantasy-world": ("castle", "wizard", "fairy", "cyberpunk", "steampunk"),
        "objects": ("still-life", "food", "vehicle", "machinery"),
    },
    "technique": {
        "lighting": ("golden-hour", "backlit", "rim-light", "neon", "chiaroscuro", "soft-light"),
        "color": ("monochrome", "pastel-colors", "vibrant", "muted", "sepia"),
        "texture": ("glossy", "matte", "grainy"),
        "detail": ("highly-detailed", "hdr", "8k", "sharp-focus"),
        "rendering": ("ray-traced", "cel-shaded", "volumetric-fog"),
    },
    "composition": {
        "camera-angle": ("worm's-eye", "bird's-eye", "eye-level", "dutch-angle"),
        "framing": ("close-up", "wide-shot", "full-body", "symmetrical", "rule-of-thirds"),
        "lens": ("fisheye", "macro", "telephoto", "tilt-shift", "bokeh"),
    },
}  # fmt: skip
# Leaves with a second parent: the hierarchy is a DAG, not a tree.
_GENONAUT_EXTRA_PARENTS = (
    ("portrait", "framing"),
    ("bokeh", "photography"),
    ("neon", "color"),
    ("cyberpunk", "era"),
    ("dragon", "fantasy-world"),
)


def _tree(
    seed: int,
    named: Sequence[tuple[str, dict[str, object]]],
    edges: Sequence[tuple[str, str]],
) -> TagTree:
    names = [name for name, _ in named]
    index = {name: i for i, name in enumerate(names)}
    assert len(index) == len(names), "tag names must be unique"
    return TagTree(
        ids=random_uuids(stream_rng(seed, Stream.TAGS), len(names)),
        names=names,
        metadata=[json.dumps(meta, separators=(",", ":")) for _, meta in named],
        edges=[(index[child], index[parent]) for child, parent in edges],
    )


def genonaut_tags(seed: int) -> tuple[TagTree, NDArray[np.int32]]:
    """4 roots, 22 categories, 101 leaves (depth 3); returns the tree and leaf indices."""
    roots = list(_GENONAUT_TREE)
    categories = [(cat, root) for root in roots for cat in _GENONAUT_TREE[root]]
    leaves = [
        (leaf, cat)
        for root in roots
        for cat, names in _GENONAUT_TREE[root].items()
        for leaf in names
    ]
    named: list[tuple[str, dict[str, object]]] = [(r, {"kind": "root"}) for r in roots]
    named += [(c, {"kind": "category"}) for c, _ in categories]
    named += [(leaf, {"kind": "leaf"}) for leaf, _ in leaves]
    tree = _tree(seed, named, [*categories, *leaves, *_GENONAUT_EXTRA_PARENTS])
    first_leaf = len(roots) + len(categories)
    return tree, np.arange(first_leaf, len(named), dtype=np.int32)


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
    tree = _tree(seed, named, edges)
    weights = (rank_of + 1.0) ** -ZIPF_EXPONENT
    cdf = np.cumsum(weights / weights.sum())
    first_leaf = len(roots) + len(categories)
    adversarial = {name: first_leaf + count + i for i, name in enumerate(ADVERSARIAL_TAGS)}
    return ZipfTags(tree, first_leaf, cdf, adversarial)


# -- items --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Items:
    """Per-item scalars in global order (by created_at); ids ascend with time per source."""

    source: NDArray[np.int16]
    item_id: NDArray[np.int32]
    created_us: NDArray[np.int64]
    quality: NDArray[np.float64]
    private: NDArray[np.bool_]
    creator: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.source)


def build_items(count: int, users: int, seed: int) -> Items:
    rng = stream_rng(seed, Stream.ITEMS)
    created = np.sort(rng.integers(pg_micros(ITEMS_FROM), pg_micros(ITEMS_UNTIL), count))
    source = (rng.random(count) >= REGULAR_SHARE).astype(np.int16)
    item_id = np.empty(count, dtype=np.int32)
    for value in (0, 1):
        mask = source == value
        item_id[mask] = np.arange(1, int(mask.sum()) + 1, dtype=np.int32)
    quality = rng.random(count)
    private = rng.random(count) < PRIVATE_SHARE
    creator = rng.integers(0, users, count).astype(np.int32)
    return Items(source, item_id, created, quality, private, creator)


def chunk_bounds(count: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + CHUNK_ITEMS, count)) for lo in range(0, count, CHUNK_ITEMS)]


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


# -- per-item text ------------------------------------------------------------------------

_TITLE_WORDS = (
    "amber", "ancient", "autumn", "azure", "blossom", "celestial", "crystal", "dawn", "dream",
    "echo", "ember", "forgotten", "garden", "glass", "harbor", "horizon", "lantern", "lost",
    "lunar", "midnight", "mist", "neon", "ocean", "orchid", "quiet", "reverie", "shadow",
    "silver", "solstice", "storm", "study", "summer", "tide", "twilight", "velvet", "voyage",
    "whisper", "wild", "winter", "wonder",
)  # fmt: skip
_PROMPT_WORDS = (
    "a", "an", "the", "of", "in", "on", "with", "and", "under", "over", "beside", "through",
    "portrait", "landscape", "woman", "man", "child", "cat", "dog", "fox", "dragon", "robot",
    "castle", "city", "forest", "river", "mountain", "ocean", "garden", "street", "window",
    "tower", "bridge", "ship", "lantern", "flower", "tree", "cloud", "moon", "sun", "star",
    "rain", "snow", "fog", "light", "shadow", "reflection", "sky", "field", "desert", "island",
    "ancient", "futuristic", "mystical", "serene", "vibrant", "moody", "dramatic", "soft",
    "glowing", "golden", "silver", "crimson", "azure", "emerald", "pastel", "dark", "bright",
    "detailed", "intricate", "cinematic", "dreamy", "whimsical", "surreal", "realistic",
    "painted", "sketched", "rendered", "lit", "framed", "standing", "sitting", "flying",
    "walking", "floating", "sleeping", "reading", "watching", "holding", "wearing", "cloak",
    "armor", "dress", "hat", "crown", "sword", "book", "umbrella", "mask", "wings", "eyes",
    "hair", "smile", "sunset", "sunrise", "night", "morning", "evening", "winter", "autumn",
    "spring", "summer", "watercolor", "oil", "ink", "charcoal", "pencil", "anime", "style",
    "photograph", "render", "illustration", "concept", "art", "masterpiece", "quality",
    "sharp", "focus", "bokeh", "lens", "wide", "angle", "closeup", "view", "scene",
    "atmosphere", "volumetric", "lighting", "colors", "texture", "background", "foreground",
)  # fmt: skip
_MODELS = ("sdxl", "sd15", "flux-dev", "flux-schnell", "playground-v2")
_STEPS = (20, 25, 30, 40, 50)
_SAMPLERS = ("euler", "euler_a", "dpmpp_2m", "ddim")
_CONTENT_TYPES = ("image", "video", "audio", "text")
_CONTENT_TYPE_SHARE = (0.96, 0.025, 0.01, 0.005)
_CONTENT_PATHS = {
    "image": ("images", "png"),
    "video": ("videos", "mp4"),
    "audio": ("audio", "mp3"),
    "text": ("texts", "txt"),
}
_SOURCE_DIRS = ("regular", "auto")
THUMB_SHARE = 0.85
ALT_RES_SHARE = 0.6


@dataclass(frozen=True)
class ItemText:
    title: list[str]
    content_type: list[str]
    content_data: list[str]
    path_thumb: list[str | None]
    alt_res: list[str | None]
    prompt: list[str]
    metadata: list[str]


def _prompts(rng: np.random.Generator, size: int) -> list[str]:
    lengths = rng.integers(10, 41, size)
    words = np.asarray(_PROMPT_WORDS, dtype=object)[
        rng.integers(0, len(_PROMPT_WORDS), int(lengths.sum()))
    ].tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [" ".join(words[a:b]) for a, b in zip(starts, ends, strict=True)]


def _titles(rng: np.random.Generator, size: int) -> list[str]:
    lengths = rng.integers(2, 6, size)
    words = [w.capitalize() for w in _TITLE_WORDS]
    picks = rng.integers(0, len(words), int(lengths.sum())).tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [" ".join(words[p] for p in picks[a:b]) for a, b in zip(starts, ends, strict=True)]


def _metadata(rng: np.random.Generator, size: int) -> list[str]:
    models = rng.integers(0, len(_MODELS), size).tolist()
    steps = rng.integers(0, len(_STEPS), size).tolist()
    samplers = rng.integers(0, len(_SAMPLERS), size).tolist()
    seeds = rng.integers(0, 2**32, size).tolist()
    return [
        f'{{"model":"{_MODELS[m]}","steps":{_STEPS[s]},"sampler":"{_SAMPLERS[p]}","seed":{z}}}'
        for m, s, p, z in zip(models, steps, samplers, seeds, strict=True)
    ]


def item_text(
    seed: int, chunk: int, source: NDArray[np.int16], item_id: NDArray[np.int32]
) -> ItemText:
    """Titles, paths, prompts and metadata for one chunk of items."""
    size = len(source)
    rng = stream_rng(seed, Stream.TEXT, chunk)
    kinds = rng.choice(len(_CONTENT_TYPES), size=size, p=_CONTENT_TYPE_SHARE).tolist()
    has_thumb = (rng.random(size) < THUMB_SHARE).tolist()
    has_alt = (rng.random(size) < ALT_RES_SHARE).tolist()
    big_alt = (rng.random(size) < 0.5).tolist()
    dirs = [_SOURCE_DIRS[s] for s in source.tolist()]
    ids = item_id.tolist()
    content_types = [_CONTENT_TYPES[k] for k in kinds]
    data, thumbs, alts = [], [], []
    for kind, where, ident, thumb, alt, big in zip(
        content_types, dirs, ids, has_thumb, has_alt, big_alt, strict=True
    ):
        folder, ext = _CONTENT_PATHS[kind]
        data.append(f"/data/{folder}/{where}/{ident}.{ext}")
        # Only an image can stand for its own thumbnail: the others always have one.
        with_thumb = thumb or kind != "image"
        thumbs.append(f"/data/thumbs/{where}/{ident}.jpg" if with_thumb else None)
        alts.append(_alt_res(where, ident, big) if alt else None)
    return ItemText(
        title=_titles(rng, size),
        content_type=content_types,
        content_data=data,
        path_thumb=thumbs,
        alt_res=alts,
        prompt=_prompts(rng, size),
        metadata=_metadata(rng, size),
    )


def _alt_res(where: str, ident: int, big: bool) -> str:
    sizes = ("512x512", "1024x1024", "2048x2048") if big else ("512x512", "1024x1024")
    paths = {size: f"/data/thumbs/{where}/{ident}_{size}.png" for size in sizes}
    return json.dumps(paths, separators=(",", ":"))
