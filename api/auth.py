"""Who is calling (身份): bearer tokens to principals, client keys, idempotent writes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection

from api.deps import ConnDep, SettingsDep
from gis import idempotency
from gis.access import ANONYMOUS, Principal
from gis.errors import NotAuthenticated
from gis.tokens import read_token
from gis.users import load_principal

oauth2 = OAuth2PasswordBearer(
    tokenUrl="/auth/token", auto_error=False, description="OAuth2 password flow → bearer token"
)


def get_principal(conn: ConnDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """The caller: a user named by a valid bearer token, or the anonymous public."""
    return principal_for(conn, None if token is None else read_token(token, settings))


PrincipalDep = Annotated[Principal, Depends(get_principal)]

#: A bearer token's ``(user id, token version)``, or None without a token.
Claims = tuple[int, int] | None


async def token_claims(settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]) -> Claims:
    """The token's signature and expiry checked without I/O (``async``: no worker-thread hop); 401 if bad."""
    return None if token is None else read_token(token, settings)


ClaimsDep = Annotated[Claims, Depends(token_claims)]


def principal_for(conn: Connection, claims: Claims) -> Principal:
    """The caller named by ``claims``, looked up in this transaction (disabled or re-passworded: 401)."""
    if claims is None:
        return ANONYMOUS
    principal = load_principal(conn, *claims)
    if principal is None:
        raise NotAuthenticated(
            "账号已停用或密码已更改，请重新登录。", "The account is disabled or its password changed; sign in again."
        )
    return principal


async def client_key(request: Request, settings: SettingsDep) -> str:
    """A keyed hash of the client address: rate limits without storing anybody's IP (no I/O: ``async``)."""
    address = request.client.host if request.client else "unknown"
    if settings.trust_forwarded_for and request.headers.get("x-forwarded-for"):
        address = request.headers["x-forwarded-for"].split(",")[0].strip()
    return hashlib.sha256(f"{settings.jwt_secret}|{address}".encode()).hexdigest()[:32]


ClientKeyDep = Annotated[str, Depends(client_key)]


def idempotent(
    request: Request, conn: ConnDep, p: Principal, client: str, fingerprint: str, produce: Callable[[], Response]
) -> Response:
    """Run ``produce`` once per ``Idempotency-Key``; a retry replays the stored response."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return produce()
    owner = f"user:{p.user_id}" if p.user_id is not None else f"anon:{client}"
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    replay = idempotency.claim(conn, owner, key, request.method, request.url.path, digest)
    if replay is not None:
        return Response(replay.body, status_code=replay.status, media_type=replay.media_type,
                        headers={"Idempotent-Replayed": "true"})  # fmt: skip
    response = produce()
    body = bytes(response.body).decode()
    idempotency.remember(conn, owner, key, response.status_code, body, response.media_type or "application/json")
    return response
