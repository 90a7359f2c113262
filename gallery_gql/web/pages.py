"""The browser pages: the gallery at `/`, static files under `/static`, and our GraphiQL.

Everything the pages load is in `gallery_gql/static` (GraphiQL's assets are vendored by
scripts/vendor-web-assets.sh), so nothing is fetched from a CDN. The gallery page talks
to the public GraphQL API only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def gallery_page() -> FileResponse:
    """The gallery: plain HTML, one JS module and a stylesheet under /static/gallery/."""
    return FileResponse(STATIC_DIR / "gallery" / "index.html", media_type="text/html")


def install_pages(app: FastAPI) -> None:
    """Serve `/` and mount `/static` (done here, on the app: a Mount inside an included
    APIRouter is dropped by older FastAPI versions)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@cache
def graphiql_html() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")
