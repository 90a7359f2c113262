"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gallery_gql.db.migrate import head_revision
from gallery_gql.db.reads import run_read

router = APIRouter()
_VERSION = text("SELECT version_num FROM alembic_version")


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """A database answers reads (a replica, else the primary) and its schema is at the
    migrations' head."""
    try:
        current = await run_read(
            request.app.state.router.route(), lambda conn: conn.scalar(_VERSION)
        )
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    head = head_revision()
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "migrations": current, "head": head}, status_code=503
        )
    return JSONResponse({"status": "ok", "migrations": current})
