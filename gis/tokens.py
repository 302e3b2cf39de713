"""Bearer tokens (访问令牌): short-lived JWTs signed with the secret from settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from gis.access import Principal
from gis.errors import NotAuthenticated
from gis.settings import Settings

ALGORITHM = "HS256"


def issue_token(p: Principal, token_version: int, settings: Settings) -> str:
    """A signed token naming the user and the password generation it was issued for."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(p.user_id),
        "name": p.username,
        "role": p.role,
        "ver": token_version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def read_token(token: str, settings: Settings) -> tuple[int, int]:
    """``(user_id, token_version)`` of a valid token; NotAuthenticated otherwise."""
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return int(claims["sub"]), int(claims.get("ver", 0))
    except (jwt.PyJWTError, ValueError, KeyError):
        raise NotAuthenticated(
            "登录已过期或令牌无效，请重新登录。",
            "The token is invalid or has expired; sign in again.",
        ) from None
