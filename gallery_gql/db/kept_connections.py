"""Connections an engine keeps out of its pool while idle: those held between reads
(db/reads.py) and its generic-plan sessions (db/generic_sessions.py). The pool counts
them as checked out; the pool's metrics report them apart."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gallery_gql.db.generic_sessions import generic_sessions
from gallery_gql.db.reads import held_connections


def kept_idle(engine: AsyncEngine) -> int:
    """How many of `engine`'s connections sit idle outside its pool."""
    return len(held_connections(engine).idle) + len(generic_sessions(engine).idle)
