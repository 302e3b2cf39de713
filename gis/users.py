"""Accounts (账号): passwords, sign-in, areas and grid handover, all kept with their history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, text, update

from gis import tables as t
from gis.access import ROLES, Principal
from gis.errors import Conflict, Forbidden, InvalidField, NotFound

_hasher = PasswordHasher()
MIN_PASSWORD = 8

#: The user a token names, with the current areas, in one round trip (every authenticated request runs it).
TOKEN_USER = text("""
SELECT u.id, u.username, u.role, u.unit_id, u.display_name, u.token_version,
       ARRAY(SELECT a.area_code FROM user_area a WHERE a.user_id = u.id AND a.to_at IS NULL
             ORDER BY a.area_code) AS areas
FROM app_user u WHERE u.id = :id AND u.active
""")


def hash_password(password: str) -> str:
    """An Argon2id hash (密码哈希)."""
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, field: str = "new_password") -> None:
    """A password people can keep but others cannot guess: at least 8 characters."""
    if len(password) < MIN_PASSWORD:
        raise InvalidField(
            field,
            f"密码至少 {MIN_PASSWORD} 个字符。",
            f"A password needs at least {MIN_PASSWORD} characters.",
        )


def _principal(row: Any, areas: Sequence[str]) -> Principal:
    return Principal(row.id, row.username, row.role, row.unit_id, tuple(areas), row.display_name)


def _areas(conn: Connection, user_id: int) -> list[str]:
    ua = t.user_area
    stmt = select(ua.c.area_code).where(ua.c.user_id == user_id, ua.c.to_at.is_(None)).order_by(ua.c.area_code)
    return [str(code) for code in conn.execute(stmt).scalars()]


def authenticate(conn: Connection, username: str, password: str) -> tuple[Principal, int] | None:
    """The principal and token version for a correct password, else None (登录)."""
    u = t.app_user
    row = conn.execute(select(u).where(u.c.username == username.strip().lower(), u.c.active)).one_or_none()
    if row is None or not _verify(row.password_hash, password):
        return None
    return _principal(row, _areas(conn, row.id)), int(row.token_version)


def load_principal(conn: Connection, user_id: int, token_version: int) -> Principal | None:
    """The principal a token names, unless the user is gone, inactive or changed password."""
    row = conn.execute(TOKEN_USER, {"id": user_id}).one_or_none()
    if row is None or int(row.token_version) != token_version:
        return None
    return _principal(row, [str(code) for code in row.areas])


def operator_principal(conn: Connection, username: str | None) -> Principal | None:
    """The principal a command-line operator acts as (操作员身份): the active user ``username``, or with
    none named the first active admin; None when there is no such account."""
    u = t.app_user
    who = u.c.username == username.strip().lower() if username is not None else u.c.role == "admin"
    row = conn.execute(select(u).where(who, u.c.active).order_by(u.c.id).limit(1)).one_or_none()
    return None if row is None else _principal(row, _areas(conn, row.id))


def change_password(conn: Connection, p: Principal, old: str, new: str) -> None:
    """A user changes their own password; every token issued before stops working."""
    u = t.app_user
    row = conn.execute(select(u.c.password_hash).where(u.c.id == p.user_id)).one_or_none()
    if row is None or not _verify(row.password_hash, old):
        raise InvalidField("old_password", "原密码不正确。", "The old password is not correct.")
    check_new_password(new)
    _set_password(conn, int(p.user_id or 0), new)


def _set_password(conn: Connection, user_id: int, new: str) -> None:
    u = t.app_user
    conn.execute(
        update(u)
        .where(u.c.id == user_id)
        .values(password_hash=hash_password(new), token_version=u.c.token_version + 1, password_changed_at=func.now())
    )


def _managed_user(conn: Connection, admin: Principal, username: str) -> Any:
    """A user whose areas all lie within the admin's areas (an admin manages their own area)."""
    admin.require("admin")
    u = t.app_user
    row = conn.execute(select(u).where(u.c.username == username)).one_or_none()
    if row is None:
        raise NotFound(f"账号 {username} 不存在。", f"User {username} does not exist.", username=username)
    areas = _areas(conn, row.id)
    if not areas or not all(any(a.startswith(mine) for mine in admin.areas) for a in areas):
        raise Forbidden(
            f"账号 {username} 不在您管理的区域内。",
            f"User {username} is outside the areas you administer.",
        )
    return row


def reset_password(conn: Connection, admin: Principal, username: str, new: str) -> None:
    """An admin sets a new password for a user of their area (重置密码)."""
    row = _managed_user(conn, admin, username)
    check_new_password(new)
    _set_password(conn, int(row.id), new)


def hand_over_grid(conn: Connection, admin: Principal, grid_code: str, username: str) -> None:
    """Give a grid to a new grid manager (网格交接): the old period ends, a new one starts.

    Open cases follow the grid (scope is by grid, not by person); ``user_area`` keeps who was
    responsible when.
    """
    admin.require("admin")
    if not any(grid_code.startswith(a) for a in admin.areas):
        raise Forbidden(f"网格 {grid_code} 不在您管理的区域内。", f"Grid {grid_code} is outside your areas.")
    u, ua = t.app_user, t.user_area
    new = conn.execute(select(u).where(u.c.username == username, u.c.active)).one_or_none()
    if new is None or new.role != "grid_manager":
        raise InvalidField(
            "username", f"{username} 不是在岗的网格员账号。", f"{username} is not an active grid manager."
        )
    exists = conn.execute(select(t.region.c.code).where(t.region.c.code == grid_code, t.region.c.level == "grid"))
    if exists.one_or_none() is None:
        raise NotFound(f"网格 {grid_code} 不存在。", f"Grid {grid_code} does not exist.", code=grid_code)
    current = ua.c.area_code == grid_code
    conn.execute(update(ua).where(current, ua.c.to_at.is_(None), ua.c.user_id != new.id).values(to_at=func.now()))
    taken = select(ua.c.id).where(current, ua.c.to_at.is_(None), ua.c.user_id == new.id)
    if conn.execute(taken).one_or_none() is None:
        conn.execute(insert(ua).values(user_id=new.id, area_code=grid_code))


def create_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    areas: Sequence[str],
    unit_id: int | None = None,
    is_demo: bool = False,
) -> int:
    """Create an account with its areas (新建账号)."""
    if role not in ROLES:
        raise InvalidField("role", f"未知角色 {role}。", f"Unknown role {role}.", allowed=list(ROLES))
    if not is_demo:
        check_new_password(password, "password")
    u = t.app_user
    if conn.execute(select(u.c.id).where(u.c.username == username)).one_or_none() is not None:
        raise Conflict(f"账号 {username} 已存在。", f"User {username} already exists.", username=username)
    new_id = conn.execute(
        insert(u)
        .values(
            username=username,
            display_name=display_name,
            role=role,
            unit_id=unit_id,
            password_hash=hash_password(password),
            is_demo=is_demo,
        )
        .returning(u.c.id)
    ).scalar_one()
    for area in areas:
        conn.execute(insert(t.user_area).values(user_id=new_id, area_code=area))
    return int(new_id)


def demo_accounts(conn: Connection) -> list[str]:
    """Usernames of demo accounts (they must not exist in production)."""
    u = t.app_user
    return [
        str(name) for name in conn.execute(select(u.c.username).where(u.c.is_demo).order_by(u.c.username)).scalars()
    ]


def grid_history(conn: Connection, grid_code: str) -> list[dict[str, Any]]:
    """Who managed a grid when (网格负责人历史)."""
    u, ua = t.app_user, t.user_area
    stmt = (
        select(u.c.username, u.c.display_name, ua.c.from_at, ua.c.to_at)
        .join(u, u.c.id == ua.c.user_id)
        .where(ua.c.area_code == grid_code)
        .order_by(ua.c.from_at, ua.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]
