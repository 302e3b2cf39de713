"""Who is asking and what they may see (身份与数据范围): roles, areas and the scope in SQL.

A principal is either the anonymous public or a user with one role and a set of areas (grids for a
grid manager, a village for a village official, a township or county for inspectors, viewers,
admins and water or roads staff); a contractor's scope is the cases dispatched to its unit. Scope is
always a SQL condition on the row, so it holds for every read and write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, false, func, or_

from gis.errors import Forbidden, NotAuthenticated

ROLES: Final[dict[str, tuple[str, str]]] = {
    "grid_manager": ("网格员", "grid manager"),
    "inspector": ("核查员", "inspector"),
    "water_staff": ("水务人员", "water staff"),
    "roads_staff": ("住建交通人员", "roads staff"),
    "contractor": ("保洁公司", "contractor"),
    "village_official": ("村干部", "village official"),
    "viewer": ("领导查看", "viewer"),
    "admin": ("管理员", "admin"),
}

#: Problem categories a role's work is about, where it is narrower than "all".
ROLE_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "water_staff": ("black_odorous_water",),
    "roads_staff": (),
}

#: Roles that may see a reporter's name and phone for cases in their scope.
SEES_REPORTER: Final[frozenset[str]] = frozenset({"grid_manager", "inspector", "village_official", "admin"})


@dataclass(frozen=True)
class Principal:
    """The caller (调用者): anonymous, or a user with a role, a unit and areas."""

    user_id: int | None
    username: str
    role: str | None
    unit_id: int | None = None
    areas: tuple[str, ...] = ()
    display_name: str = ""

    @property
    def anonymous(self) -> bool:
        """True for the public (no token)."""
        return self.user_id is None

    def require(self, *roles: str) -> None:
        """Refuse unless the caller has one of ``roles``: 401 for the public (sign in first), else 403."""
        if self.anonymous:
            raise NotAuthenticated("请先登录。", "Sign in first.")
        if self.role not in roles:
            allowed = "、".join(ROLES[r][0] for r in roles)
            raise Forbidden(
                f"当前账号（{self.role_label_zh}）无权执行此操作；需要：{allowed}。",
                f"Your account ({self.role or 'anonymous'}) may not do this; it needs: {', '.join(roles)}.",
                required_roles=list(roles),
            )

    @property
    def role_label_zh(self) -> str:
        """The role's Chinese name (游客 for the public)."""
        return ROLES[self.role][0] if self.role else "游客"


ANONYMOUS: Final = Principal(user_id=None, username="anonymous", role=None)


def in_areas(p: Principal, row: Any) -> ColumnElement[bool]:
    """The row lies in one of the caller's areas (any level: county, township, village, grid)."""
    if not p.areas:
        return false()
    codes = list(p.areas)
    columns = [row.c[name] for name in ("county_code", "township_code", "village_code", "grid_code") if name in row.c]
    return or_(*(column.in_(codes) for column in columns))


def case_scope(p: Principal, c: Any) -> ColumnElement[bool]:
    """Cases the caller works on (数据范围): in SQL, for reads and writes alike; never NULL."""
    return func.coalesce(_scope(p, c), false())


def _scope(p: Principal, c: Any) -> ColumnElement[bool]:
    if p.anonymous or p.role is None:
        return false()
    if p.role == "contractor":
        return c.c.assignee_unit_id == p.unit_id if p.unit_id is not None else false()
    area = in_areas(p, c)
    categories = ROLE_CATEGORIES.get(p.role)
    if categories is not None:
        area = c.c.category.in_(categories) & area if categories else false()
    return or_(area, c.c.created_by == p.user_id)
