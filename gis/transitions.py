"""What each lifecycle action writes (流转操作): register, reject, assign, start, resolve, close …

Each handler checks its own fields and returns the column updates and event extras; ``apply_action``
runs the shared checks first and writes both in the caller's transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Date, case, cast, func, null, select, update

from gis import tables as t
from gis.access import Principal
from gis.actions import (
    ActionIn,
    Change,
    Handler,
    Step,
    check_state,
    load_for_action,
    local_today,
    require_note,
    require_photos,
    rule_for,
)
from gis.closeout import close
from gis.closeout_write import close_in_two_statements
from gis.errors import Conflict, InvalidField, NotAuthenticated
from gis.event_log import record_event
from gis.photos_db import check_photos
from gis.units import unit_ids


def _future(field: str, value: Any) -> None:
    if value is not None and value < local_today():
        raise InvalidField(field, "日期不能早于今天。", f"{field} cannot be before today.", value=str(value))


def _register(_ctx: Step) -> Change:
    return Change()


def _reject(ctx: Step) -> Change:
    conn, row, a = ctx.conn, ctx.row, ctx.a
    require_note(a, "不予立案", "Rejecting")
    if a.duplicate_of is None:
        return Change()
    c = t.cases
    original = conn.execute(select(c.c.category).where(c.c.id == a.duplicate_of)).one_or_none()
    if a.duplicate_of == row.id or original is None or original.category != row.category:
        raise InvalidField(
            "duplicate_of",
            f"duplicate_of 须指向另一个同类别的案件（{a.duplicate_of} 不符合）。",
            f"duplicate_of must name another case of the same category ({a.duplicate_of} does not).",
        )
    return Change({"duplicate_of": a.duplicate_of}, {"data": {"duplicate_of": a.duplicate_of}})


def _assignee(conn: Connection, a: ActionIn) -> tuple[int | None, str | None]:
    if not a.assignee_unit and not a.assignee_user:
        raise InvalidField("assignee", "派遣须指定单位（assignee.unit）或人员（assignee.user）。",
                           "Assigning needs assignee.unit or assignee.user.")  # fmt: skip
    unit_id = unit_ids(conn, [a.assignee_unit], "assignee.unit")[a.assignee_unit] if a.assignee_unit else None
    if a.assignee_user:
        u = t.app_user
        user = conn.execute(select(u.c.unit_id).where(u.c.username == a.assignee_user, u.c.active)).one_or_none()
        if user is None:
            raise InvalidField("assignee.user", f"账号 {a.assignee_user} 不存在。", f"No user {a.assignee_user}.")
        unit_id = unit_id if unit_id is not None else user.unit_id
    return unit_id, a.assignee_user


def _assign(ctx: Step) -> Change:
    conn, row, a = ctx.conn, ctx.row, ctx.a
    unit_id, user = _assignee(conn, a)
    _future("deadline", a.deadline)
    deadline = a.deadline or local_today() + timedelta(days=int(row.default_deadline_days or 30))
    updates: dict[str, Any] = {"assignee_unit_id": unit_id, "assignee_user": user, "deadline": deadline,
                               "review_on": None, "extension_requested": None}  # fmt: skip
    if a.lead_unit:
        updates["lead_unit_id"] = unit_ids(conn, [a.lead_unit], "lead_unit")[a.lead_unit]
    if a.responsible_units:
        ids = unit_ids(conn, list(a.responsible_units), "responsible_units")
        updates["responsible_unit_ids"] = sorted(ids.values())
    data = {"assignee_unit": a.assignee_unit, "assignee_user": user, "deadline": deadline.isoformat(),
            "lead_unit": a.lead_unit, "responsible_units": list(a.responsible_units)}  # fmt: skip
    return Change(updates, {"data": data})


def _start(_ctx: Step) -> Change:
    return Change()


def _resolve(ctx: Step) -> Change:
    conn, a = ctx.conn, ctx.a
    require_photos(conn, a, "处置完毕", "Resolving")
    return Change(photos_checked=True)


def _return(ctx: Step) -> Change:
    a = ctx.a
    require_note(a, "核查不通过", "Returning after the check")
    return Change()


def _hand_back(ctx: Step) -> Change:
    a = ctx.a
    require_note(a, "退单", "Handing back")
    return Change({"assignee_unit_id": None, "assignee_user": None})


def _suspend(ctx: Step) -> Change:
    a = ctx.a
    require_note(a, "挂账", "Suspending")
    if a.review_on is None:
        raise InvalidField(
            "review_on", "挂账须填写复查日期（review_on）。", "Suspending needs a review date (review_on)."
        )
    _future("review_on", a.review_on)
    return Change({"review_on": a.review_on}, {"data": {"review_on": a.review_on.isoformat()}})


def _reopen(ctx: Step) -> Change:
    row, a = ctx.row, ctx.a
    require_note(a, "反弹", "Reopening")
    updates = {"closed_at": None, "closed_on_time": None, "deadline": None, "round": t.cases.c.round + 1,
               "assignee_unit_id": None, "assignee_user": None}  # fmt: skip
    return Change(updates, {"data": {"round": int(row.round) + 1}})


def _extend(ctx: Step) -> Change:
    row, a = ctx.row, ctx.a
    if a.decision is None:
        require_note(a, "申请延期", "Asking for an extension")
        floor = max(row.deadline or local_today(), local_today())
        if a.deadline is None or a.deadline <= floor:
            raise InvalidField(
                "deadline", f"延期须给出晚于 {floor} 的新期限。", f"An extension needs a deadline after {floor}."
            )
        return Change({"extension_requested": a.deadline}, {"data": {"requested": a.deadline.isoformat()}})
    if a.decision not in ("approve", "refuse"):
        raise InvalidField("decision", "decision 须为 approve 或 refuse。", "decision must be approve or refuse.")
    if row.extension_requested is None:
        raise Conflict("该案件没有待审批的延期申请。", "There is no extension request to decide.")
    updates: dict[str, Any] = {"extension_requested": None}
    if a.decision == "approve":
        updates["deadline"] = row.extension_requested
    data = {"decision": a.decision, "requested": row.extension_requested.isoformat()}
    return Change(updates, {"data": data})


HANDLERS: dict[str, Handler] = {
    "register": _register, "reject": _reject, "assign": _assign, "start": _start, "resolve": _resolve,
    "close": close, "return": _return, "hand_back": _hand_back, "extend": _extend, "suspend": _suspend,
    "reopen": _reopen,
}  # fmt: skip


def apply_action(
    conn: Connection, p: Principal, case_id: int, action: str, a: ActionIn, *, max_vertices: int = 10_000
) -> None:
    """Do ``action`` on a case: checks, the new state, and its event, in the caller's transaction."""
    rule = rule_for(action, a)
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in first.")
    if not rule.by_assignee:
        p.require(*rule.roles)
    if action == "close" and close_in_two_statements(conn, p, case_id, rule, a):
        return
    row = load_for_action(conn, p, case_id, rule)
    check_state(row, action, rule, a)
    change = HANDLERS[action](Step(conn, p, row, a, max_vertices))
    if a.photo_ids and not change.photos_checked:
        check_photos(conn, a.photo_ids)
    target = rule.target or row.status
    values = {"status": target, "version": t.cases.c.version + 1, "updated_at": func.now(), **change.updates}
    if target == "closed":
        today = cast(func.timezone("Asia/Shanghai", func.now()), Date)
        values |= {"closed_at": func.now(), "closed_on_time": case((t.cases.c.deadline.is_(None), null()),
                                                                     else_=today <= t.cases.c.deadline)}  # fmt: skip
    conn.execute(update(t.cases).where(t.cases.c.id == case_id).values(**values))
    record_event(conn, case_id, p, action, row.status, target, note=a.note, photo_ids=a.photo_ids, **change.event)
