"""Bearer tokens: signed JWTs naming a user, minted by `gallery-gql token`."""

from __future__ import annotations

import time
from uuid import UUID

import jwt

from gallery_gql.settings import Settings

_ALGORITHM = "HS256"


class TokenError(ValueError):
    """The token is malformed, expired, or not ours."""


def _key(settings: Settings) -> str:
    return "jwt:" + settings.signing_secret()


def mint_token(user_id: UUID, settings: Settings, *, ttl_seconds: int | None = None) -> str:
    now = int(time.time())
    ttl = settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + ttl,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
    }
    return jwt.encode(claims, _key(settings), algorithm=_ALGORITHM)


def verify_token(token: str, settings: Settings) -> UUID:
    """The user id a valid token names; TokenError for anything else."""
    try:
        claims = jwt.decode(
            token,
            _key(settings),
            algorithms=[_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp", "aud", "iss"]},
        )
        return UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise TokenError("invalid or expired token") from exc
