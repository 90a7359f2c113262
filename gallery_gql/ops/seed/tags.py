"""The tag DAG every profile builds, and the Genonaut profile's tags (its real hierarchy)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.streams import Stream, random_uuids, stream_rng


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


def build_tree(
    seed: int,
    named: Sequence[tuple[str, dict[str, object]]],
    edges: Sequence[tuple[str, str]],
) -> TagTree:
    """Tags from (name, metadata) in tag_key order and (child, parent) edges by name."""
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
    tree = build_tree(seed, named, [*categories, *leaves, *_GENONAUT_EXTRA_PARENTS])
    first_leaf = len(roots) + len(categories)
    return tree, np.arange(first_leaf, len(named), dtype=np.int32)
