"""The media root served at `/media/`: thumbnails and content files, cached for long.

Starlette's `StaticFiles` does the serving (ETag, Last-Modified, 304, ranges, HEAD) and
keeps requests inside the root: it normalizes `..` away, resolves symlinks and refuses a
target outside the root, and lists no directory (html mode off). On top of it, only
media file types are served, never a hidden name (a segment starting with `.`, such as
the seed's image store), and every file response says how long to keep it and not to
sniff its type: a stray `.html` or `.svg` in the root is a 404, never a page of this
origin.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from gallery_gql.settings import Settings

MEDIA_ROUTE = "/media"

# Raster images, video, audio and plain text: what a gallery item's files are. SVG is
# left out: it can carry script.
MEDIA_TYPES = {
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".txt": "text/plain; charset=utf-8",
}


class MediaRootError(RuntimeError):
    """The configured media root cannot be served."""


class MediaFiles(StaticFiles):
    def __init__(self, directory: Path, max_age_seconds: int) -> None:
        super().__init__(directory=directory, html=False, follow_symlink=False)
        self.cache_control = (
            f"public, max-age={max_age_seconds}, immutable" if max_age_seconds else "no-cache"
        )

    async def get_response(self, path: str, scope: Scope) -> Response:
        # `path` is already normalized by `get_path` (no `.`/`..` left, or a leading `..`
        # that lookup_path refuses); a hidden or non-media name is refused before any
        # file system access.
        name = os.path.basename(path)
        hidden = any(part.startswith(".") for part in path.split(os.sep))
        if hidden or os.path.splitext(name)[1].lower() not in MEDIA_TYPES:
            if scope["method"] not in ("GET", "HEAD"):
                raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        # The requested name's type, whatever a symlink inside the root points at.
        media_type = MEDIA_TYPES[os.path.splitext(self.get_path(scope))[1].lower()]
        response = FileResponse(
            full_path, status_code=status_code, stat_result=stat_result, media_type=media_type
        )
        response.headers["Cache-Control"] = self.cache_control
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def media_root(settings: Settings) -> Path | None:
    """The configured media root as an absolute directory; MediaRootError if it is not
    one."""
    if settings.media_root is None:
        return None
    root = settings.media_root.expanduser().resolve()
    if not root.is_dir():
        raise MediaRootError(
            f"GALLERY_GQL_MEDIA_ROOT={settings.media_root} is not a directory "
            "(`gallery-gql seed` writes the demo's media under $GALLERY_GQL_HOME/media)"
        )
    return root


def install_media(app: FastAPI, settings: Settings) -> None:
    """Mount the media root at `/media` when one is configured."""
    root = media_root(settings)
    if root is None:
        return
    app.mount(
        MEDIA_ROUTE,
        MediaFiles(root, settings.media_max_age_seconds),
        name="media",
    )
