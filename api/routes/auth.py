"""Sign-in and accounts (登录与账号): tokens, passwords, grid handover."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import PrincipalDep
from api.deps import ConnDep, SettingsDep
from api.routes.docs import ERRORS, WRITE_ERRORS
from api.schemas import GridManager, NewUser, PasswordChange, PasswordReset
from gis import users
from gis.access import ROLES
from gis.errors import Forbidden, NotAuthenticated
from gis.tokens import issue_token
from gis.units import unit_ids

#: Admin-only routes also refuse other roles (403).
ADMIN_ERRORS = ERRORS | {403: WRITE_ERRORS[403]}

router = APIRouter(tags=["auth 账号"])
GridCode = Annotated[str, Path(pattern=r"^\d{15}$", description="15 位网格代码 / grid code")]


@router.post("/auth/token", responses={401: ERRORS[400] | {"description": "用户名或密码错误 / wrong credentials"}})
def token(
    conn: ConnDep, settings: SettingsDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    """登录 / OAuth2 password flow: username + password → bearer token."""
    found = users.authenticate(conn, form.username, form.password)
    if found is None:
        raise NotAuthenticated("用户名或密码错误。", "Wrong username or password.")
    principal, version = found
    return {
        "access_token": issue_token(principal, version, settings),
        "token_type": "bearer",
        "expires_in": settings.token_minutes * 60,
        "username": principal.username,
        "role": principal.role,
    }


@router.get("/auth/me", responses=ERRORS)
def me(p: PrincipalDep) -> dict[str, Any]:
    """当前账号 / who the token belongs to, with role and areas."""
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in first.")
    label_zh, label_en = ROLES[p.role or "viewer"]
    return {"username": p.username, "display_name": p.display_name, "role": p.role, "role_label": label_zh,
            "role_label_en": label_en, "areas": list(p.areas), "unit_id": p.unit_id}  # fmt: skip


@router.post("/auth/password", status_code=204, response_class=Response, responses=ERRORS)
def change_password(conn: ConnDep, p: PrincipalDep, body: PasswordChange) -> Response:
    """修改密码 / change your password; earlier tokens stop working."""
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in first.")
    users.change_password(conn, p, body.old_password, body.new_password)
    return Response(status_code=204)


@router.post("/users", status_code=201, responses=ADMIN_ERRORS)
def create_user(conn: ConnDep, p: PrincipalDep, body: NewUser) -> dict[str, Any]:
    """新建账号 (管理员) / an admin creates an account within their areas."""
    p.require("admin")
    outside = [a for a in body.areas if not any(a.startswith(mine) for mine in p.areas)]
    if outside or not body.areas:
        raise Forbidden(
            "新账号的区域须在您管理的区域内。", "A new account's areas must lie within yours.", areas=outside
        )
    unit_id = unit_ids(conn, [body.unit], "unit")[body.unit] if body.unit else None
    new_id = users.create_user(conn, username=body.username, display_name=body.display_name, role=body.role,
                               password=body.password, areas=body.areas, unit_id=unit_id)  # fmt: skip
    return {"id": new_id, "username": body.username, "role": body.role, "areas": body.areas}


@router.post("/users/{username}/password", status_code=204, response_class=Response, responses=ADMIN_ERRORS)
def reset_password(conn: ConnDep, p: PrincipalDep, username: str, body: PasswordReset) -> Response:
    """重置密码 (管理员) / an admin sets a new password for a user of their area."""
    users.reset_password(conn, p, username, body.new_password)
    return Response(status_code=204)


@router.post("/grids/{grid_code}/manager", responses=ADMIN_ERRORS)
def hand_over(conn: ConnDep, p: PrincipalDep, grid_code: GridCode, body: GridManager) -> dict[str, Any]:
    """网格交接 (管理员) / give a grid to a new grid manager; history keeps who had it when."""
    users.hand_over_grid(conn, p, grid_code, body.username)
    return {"grid_code": grid_code, "managers": users.grid_history(conn, grid_code)}


@router.get("/grids/{grid_code}/managers", responses=ERRORS)
def managers(conn: ConnDep, p: PrincipalDep, grid_code: GridCode) -> dict[str, Any]:
    """网格负责人历史 / who managed the grid when (staff only)."""
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in first.")
    return {"grid_code": grid_code, "managers": users.grid_history(conn, grid_code)}
