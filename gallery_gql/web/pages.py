"""The browser pages: the gallery at `/`, static files under `/static`, and our GraphiQL.

Everything the pages load is in `gallery_gql/static` (GraphiQL's assets are vendored by
scripts/vendor-web-assets.sh), so nothing is fetched from a CDN. The gallery page talks
to the public GraphQL API only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def gallery_page() -> FileResponse:
    """The gallery: plain HTML, its JS modules and a stylesheet under /static/gallery/."""
    return FileResponse(STATIC_DIR / "gallery" / "index.html", media_type="text/html")


GRAPHIQL_FILES = ("graphiql.html", "vendor/")
"""Static paths only GraphiQL loads: not served where GraphiQL is off (production)."""


class _StaticFiles(StaticFiles):
    def __init__(self, hidden: tuple[str, ...]) -> None:
        super().__init__(directory=STATIC_DIR)
        self.hidden = hidden

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        if path.startswith(self.hidden):
            raise HTTPException(status_code=404)
        return path


def install_pages(app: FastAPI, *, graphiql: bool = True) -> None:
    """Serve `/` and mount `/static` (done here, on the app: a Mount inside an included
    APIRouter is dropped by older FastAPI versions)."""
    app.include_router(router)
    app.mount("/static", _StaticFiles(() if graphiql else GRAPHIQL_FILES), name="static")


@cache
def graphiql_html() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")
