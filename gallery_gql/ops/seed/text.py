"""Per-item text: titles, content paths, thumbnails, prompts and generation metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gallery_gql.ops.seed.streams import Stream, stream_rng

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
