"""The signing secret kept in a file when none is configured: created once, atomically.

Several processes may start at once (workers, a `token` command beside `serve`): the first
to publish its secret wins and every process reads that one. The value is written to a
private temporary file and then hard-linked under the final name, which fails if the name
exists; so the file is never seen empty or partly written, and a failed write leaves no
file behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

MIN_SECRET_BYTES = 32
"""Shorter keys are refused, from a file or from the environment: HS256 tokens and cursor
keys derived from a short or empty secret can be guessed offline."""


class SecretError(ValueError):
    """The secret file is unusable; the message says what to do."""


def check_secret(value: str, origin: str) -> str:
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise SecretError(
            f"{origin} is {len(value.encode())} bytes; at least {MIN_SECRET_BYTES} are required"
        )
    return value


def read_secret(path: Path) -> str:
    """The secret stored at `path`; FileNotFoundError when there is none yet."""
    value = path.read_text(encoding="utf-8").strip()
    return check_secret(value, f"the secret in {path} (delete the file to generate a new one)")


def read_or_create_secret(path: Path) -> str:
    """The secret at `path`, generated (48 random bytes, base64url) when absent."""
    with contextlib.suppress(FileNotFoundError):
        return read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48))
            out.flush()
            os.fsync(out.fileno())
        # Another process may have published first: then its secret is the one.
        with contextlib.suppress(FileExistsError):
            os.link(staged, path)
    finally:
        os.unlink(staged)
    return read_secret(path)
