"""The bounds on every write input: what one request may carry."""

from __future__ import annotations

MAX_TITLE_LENGTH = 255
MAX_PROMPT_LENGTH = 20_000
MAX_PATH_LENGTH = 4_096
MAX_ALT_RESOLUTIONS = 32
MAX_METADATA_BYTES = 16 * 1024
"""Encoded JSON (and nested at most json_depth.MAX_METADATA_DEPTH deep). Generation
metadata is a few hundred bytes; 64 KiB let a page of aliased items reach tens of MiB."""
MAX_TAGS_PER_ITEM = 200
MAX_TAG_VALUES = 1_000
"""Values one tag list may carry before deduplication (the deduplicated tags are capped
at `MAX_TAGS_PER_ITEM`)."""
MAX_BATCH = 500
"""Items one batch call may write."""
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_PARENTS = 50
"""Parents a new tag may be given."""
