"""Looking up users for the CLI."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import create_async_engine

from gallery_gql.db.tables import users


async def find_user(url: str, ref: str) -> UUID | None:
    """A user's id by username or by id."""
    try:
        by_id: UUID | None = UUID(ref)
    except ValueError:
        by_id = None
    condition = users.c.username == ref
    if by_id is not None:
        condition = or_(condition, users.c.id == by_id)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found: UUID | None = await conn.scalar(select(users.c.id).where(condition))
            return found
    finally:
        await engine.dispose()
