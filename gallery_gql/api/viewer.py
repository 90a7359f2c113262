"""Who is asking: the bearer token on the request, checked and loaded."""

from __future__ import annotations

from gallery_gql.auth import TokenError, verify_token
from gallery_gql.db.reads import ReadSource, run_read
from gallery_gql.db.routing import ReadRoute
from gallery_gql.gallery.lookups import fetch_users
from gallery_gql.gallery.records import UserRecord
from gallery_gql.settings import Settings


class AuthenticationError(Exception):
    """The request carried credentials that are not valid."""


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be `Bearer <token>`")
    return token.strip()


async def load_viewer(
    authorization: str | None, settings: Settings, engine: ReadSource
) -> UserRecord | None:
    """The signed-in user, None without credentials; AuthenticationError when the token
    is invalid, expired, or names no active user. A request's route follows the viewer's
    last write from here on (read-your-writes)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    try:
        user_id = verify_token(token, settings)
    except TokenError as exc:
        raise AuthenticationError(str(exc)) from exc
    if isinstance(engine, ReadRoute):
        await engine.follow_viewer(user_id)
    user = (await run_read(engine, lambda conn: fetch_users(conn, [user_id]))).get(user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("the token's user does not exist or is inactive")
    return user
