"""PostgreSQL WAL positions (`pg_lsn`, e.g. `16/B374D848`) as integers, and back."""

from __future__ import annotations

import re

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


class InvalidLsnError(ValueError):
    """The text is not a WAL position."""


def parse_lsn(text: str) -> int:
    """`'16/B374D848'` → its byte position; InvalidLsnError for anything else."""
    match = _LSN.fullmatch(text.strip())
    if match is None:
        raise InvalidLsnError(f"not a WAL position: {text[:40]!r}")
    high, low = match.groups()
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(position: int) -> str:
    """A byte position as PostgreSQL writes it (`pg_lsn` text)."""
    if not 0 <= position < 1 << 64:
        raise InvalidLsnError(f"not a WAL position: {position}")
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"
