"""API keys (接口密钥) for machine clients such as Open311 apps: created once, stored as a hash.

A key reads ``vm_<prefix>_<secret>``: the prefix (8 characters) finds the row, the SHA-256 of the
whole key is compared in constant time. The key itself is shown once, when it is created, and
never stored. A key may belong to a user (its reports are that user's, with their role and
areas) or to nobody (reports are anonymous, rate-limited per key).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from gis import tables as t
from gis.access import Principal
from gis.errors import Forbidden, InvalidParameter
from gis.users import load_principal

PREFIX_BYTES = 6
SECRET_BYTES = 32


@dataclass(frozen=True)
class ApiKeyOwner:
    """Who a verified key reports as (密钥持有者): a user's principal, or anonymous with this key."""

    key_id: int
    name: str
    principal: Principal

    @property
    def client_key(self) -> str:
        """The rate-limit key of anonymous reports made with this key."""
        return f"apikey:{self.key_id}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(conn: Connection, name: str, username: str | None = None) -> str:
    """Create a key named ``name`` (for ``username``'s account, if given); returns the key, shown once."""
    if not 1 <= len(name.strip()) <= 100:
        raise InvalidParameter("name", "密钥名称须为 1–100 个字。", "The key name must be 1–100 characters.")
    user_id = None
    if username is not None:
        user_id = conn.execute(select(t.app_user.c.id).where(t.app_user.c.username == username)).scalar_one_or_none()
        if user_id is None:
            raise InvalidParameter("user", f"没有用户“{username}”。", f"There is no user '{username}'.", value=username)
    prefix = secrets.token_hex(PREFIX_BYTES)[:8]
    key = f"vm_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    conn.execute(t.api_key.insert().values(prefix=prefix, secret_hash=_digest(key), name=name.strip(), user_id=user_id))
    return key


def _refused() -> Forbidden:
    return Forbidden(
        "api_key 无效或已吊销。请向管理员申请（villagemap api-key create）。",
        "The api_key is invalid or revoked. Ask an administrator for one (villagemap api-key create).",
    )


def verify_api_key(conn: Connection, key: str) -> ApiKeyOwner:
    """The owner of a valid, unrevoked key (its ``last_used_at`` is updated); 403 otherwise."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "vm" or len(parts[1]) != 8:
        raise _refused()
    k = t.api_key
    row = conn.execute(select(k).where(k.c.prefix == parts[1], k.c.revoked_at.is_(None))).one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(key)):
        raise _refused()
    conn.execute(update(k).where(k.c.id == row.id).values(last_used_at=func.now()))
    principal = Principal(user_id=None, username=f"api-key:{row.name}", role=None)
    if row.user_id is not None:
        version = conn.execute(select(t.app_user.c.token_version).where(t.app_user.c.id == row.user_id)).scalar_one()
        found = load_principal(conn, int(row.user_id), int(version))
        if found is None:
            raise _refused()
        principal = found
    return ApiKeyOwner(int(row.id), str(row.name), principal)


def revoke_api_key(conn: Connection, prefix: str) -> bool:
    """Revoke the key with ``prefix``; False when there is no such unrevoked key."""
    k = t.api_key
    done = conn.execute(update(k).where(k.c.prefix == prefix, k.c.revoked_at.is_(None)).values(revoked_at=func.now()))
    return bool(done.rowcount)
