"""Field actions (现场操作) a caller may take on a case now: what the phone offers as buttons.

The same rules the write path enforces (``gis.actions.RULES``: the state machine, the roles, the
assignee) decide which of the on-site actions — start, resolve, close, return — are offered;
the write path checks everything again when the action arrives. With them go the case's version
and the category's close-out radius and accuracy limit, for the live distance on the phone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, false, or_, select

from gis import tables as t
from gis.access import Principal, case_scope
from gis.actions import RULES
from gis.errors import NotFound

FIELD_ACTIONS = ("start", "resolve", "close", "return")


def _row(conn: Connection, p: Principal, case_id: int) -> Any:
    c, cat = t.cases.alias("c"), t.category.alias("cat")
    by_unit = c.c.assignee_unit_id == p.unit_id if p.unit_id is not None else false()
    by_user = c.c.assignee_user == p.username if not p.anonymous else false()
    is_assignee = or_(by_unit, by_user)
    stmt = (
        select(
            c.c.id,
            c.c.status,
            c.c.version,
            cat.c.closeout_radius_m,
            cat.c.accuracy_limit_m,
            case_scope(p, c).label("in_scope"),
            is_assignee.label("is_assignee"),
        )
        .join(cat, cat.c.code == c.c.category)
        .where(c.c.id == case_id)
    )
    return conn.execute(stmt).one_or_none()


def allowed_actions(conn: Connection, p: Principal, case_id: int) -> dict[str, Any]:
    """The field actions ``p`` may take on case ``case_id`` now, with version and close-out limits."""
    row = _row(conn, p, case_id)
    if row is None:
        raise NotFound(f"案件 {case_id} 不存在。", f"Case {case_id} does not exist.", case_id=case_id)
    actions = []
    if not p.anonymous and (row.in_scope or row.is_assignee):
        for name in FIELD_ACTIONS:
            rule = RULES[name]
            allowed = bool(row.is_assignee) if rule.by_assignee else p.role in rule.roles
            if allowed and row.status in rule.sources:
                actions.append(name)
    return {
        "case_id": row.id,
        "status": row.status,
        "version": row.version,
        "in_scope": bool(row.in_scope),
        "is_assignee": bool(row.is_assignee),
        "actions": actions,
        "closeout_radius_m": float(row.closeout_radius_m),
        "accuracy_limit_m": float(row.accuracy_limit_m),
    }
