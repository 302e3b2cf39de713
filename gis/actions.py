"""Lifecycle actions (案件流转): the state machine, who may act, and the checks before any write.

``load_for_action`` locks the case row (``FOR UPDATE``) inside the caller's scope; ``check_state``
checks the version (optimistic concurrency: a stale one is a 409) and the state machine. The
handlers and ``apply_action`` are in ``gis/transitions.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, bindparam, or_, select

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import Conflict, Forbidden, InvalidField, NotFound, PreconditionRequired
from gis.lifecycle import CASE_STATUSES
from gis.photos_db import check_photos

DISPATCHERS = ("inspector", "admin")


@dataclass(frozen=True)
class ActionIn:
    """The fields an action may carry (each action takes the ones it needs)."""

    version: int | None = None
    note: str | None = None
    position: Any = None
    accuracy_m: float | None = None
    crs: str | None = None
    photo_ids: tuple[str, ...] = ()
    assignee_unit: str | None = None
    assignee_user: str | None = None
    lead_unit: str | None = None
    responsible_units: tuple[str, ...] = ()
    deadline: date | None = None
    remedied_geometry: Any = None
    duplicate_of: int | None = None
    review_on: date | None = None
    decision: str | None = None
    measurements: dict[str, Any] | None = None


@dataclass
class Change:
    """What an action writes: column updates on the case and extras for its event.

    ``photos_checked``: the handler already checked ``photo_ids`` (no second query for them).
    """

    updates: dict[str, Any] = field(default_factory=dict)
    event: dict[str, Any] = field(default_factory=dict)
    photos_checked: bool = False


@dataclass(frozen=True)
class Rule:
    """An action's place in the state machine (状态机)."""

    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...] = DISPATCHERS
    by_assignee: bool = False


RULES: dict[str, Rule] = {
    "register": Rule(("reported",), "registered"),
    "reject": Rule(("reported", "registered"), "rejected"),
    "assign": Rule(("registered", "assigned", "suspended"), "assigned"),
    "start": Rule(("assigned",), "in_progress", (), by_assignee=True),
    "resolve": Rule(("in_progress",), "resolved", (), by_assignee=True),
    "close": Rule(("resolved",), "closed", ("inspector",)),
    "return": Rule(("resolved",), "assigned", ("inspector",)),
    "hand_back": Rule(("assigned",), "registered", (), by_assignee=True),
    "extend": Rule(("assigned", "in_progress"), None, (), by_assignee=True),
    "suspend": Rule(("registered", "assigned", "in_progress"), "suspended"),
    "reopen": Rule(("closed",), "registered", (*DISPATCHERS, "grid_manager")),
}


@dataclass(frozen=True)
class Step:
    """What a handler works with: the transaction, the caller, the locked row, the request."""

    conn: Connection
    p: Principal
    row: Any
    a: ActionIn
    max_vertices: int = 10_000


Handler = Callable[[Step], Change]


def local_today() -> date:
    """Today in Asia/Shanghai (deadlines are local calendar dates)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def require_note(a: ActionIn, what_zh: str, what_en: str) -> str:
    """A reason is required for this action."""
    note = (a.note or "").strip()
    if not note:
        raise InvalidField("note", f"{what_zh}须填写原因（note）。", f"{what_en} needs a reason in 'note'.")
    if len(note) > 2000:
        raise InvalidField("note", "说明最多 2000 字。", "note may be at most 2000 characters.")
    return note


def require_photos(conn: Connection, a: ActionIn, what_zh: str, what_en: str) -> None:
    """At least one uploaded photo is required for this action."""
    if not a.photo_ids:
        raise InvalidField("photo_ids", f"{what_zh}须附至少一张照片。", f"{what_en} needs at least one photo.")
    check_photos(conn, a.photo_ids)


def rule_for(action: str, a: ActionIn) -> Rule:
    """The rule of ``action`` (an extend with a decision is the dispatcher's, not the assignee's)."""
    rule = RULES.get(action)
    if rule is None:
        known = ", ".join(RULES)
        raise NotFound(f"没有“{action}”这个操作。可用操作：{known}。", f"No action '{action}'. Known: {known}.")
    if action == "extend" and a.decision is not None:
        return Rule(rule.sources, None, DISPATCHERS)
    return rule


@lru_cache(maxsize=256)
def lock_statement(p: Principal) -> Select[Any]:
    """The row-locking select of a caller (锁定案件), built once per principal; the case id is bound."""
    c, cat = t.cases.alias("c"), t.category.alias("cat")
    is_assignee = or_(
        c.c.assignee_unit_id == p.unit_id if p.unit_id is not None else False, c.c.assignee_user == p.username
    )
    return (
        select(
            c,
            cat.c.closeout_radius_m,
            cat.c.accuracy_limit_m,
            cat.c.default_deadline_days,
            cat.c.closeout_rules,
            cat.c.label_zh,
            is_assignee.label("is_assignee"),
        )
        .join(cat, cat.c.code == c.c.category)
        .where(c.c.id == bindparam("case_id"), or_(case_scope(p, c), is_assignee))
        .with_for_update(of=c)
    )


def load_for_action(conn: Connection, p: Principal, case_id: int, rule: Rule) -> Any:
    """Lock the case row in the caller's scope (404 outside it); assignee actions need the assignee."""
    return checked_row(conn.execute(lock_statement(p), {"case_id": case_id}).one_or_none(), case_id, rule)


def checked_row(row: Any, case_id: int, rule: Rule) -> Any:
    """The locked row, or 404 (none: outside the caller's scope); assignee actions need the assignee."""
    if row is None:
        raise NotFound(
            f"案件 {case_id} 不存在，或不在您的工作范围内。",
            f"Case {case_id} does not exist or is outside your scope.",
            case_id=case_id,
        )
    if rule.by_assignee and not row.is_assignee:
        raise Forbidden(
            "只有被派遣的单位或人员可以执行此操作。", "Only the unit or person the case is assigned to may do this."
        )
    return row


def check_state(row: Any, action: str, rule: Rule, a: ActionIn) -> None:
    """The version must be current (428 without, 409 stale) and the state one the action starts from."""
    if a.version is None:
        raise PreconditionRequired(
            "请提供案件当前的版本号（version 或 If-Match），以免覆盖他人的修改。",
            "Send the case's current version (body 'version' or If-Match) so nobody's change is overwritten.",
            current_version=row.version,
        )
    if a.version != row.version:
        raise Conflict(
            f"案件已被他人修改（当前版本 {row.version}，您提交的是 {a.version}），请刷新后重试。",
            f"The case was changed meanwhile (version {row.version}, you sent {a.version}); reload and retry.",
            current_version=row.version,
        )
    if row.status not in rule.sources:
        now_zh = CASE_STATUSES[row.status][0]
        need = "、".join(CASE_STATUSES[s][0] for s in rule.sources)
        raise Conflict(
            f"案件当前状态为“{now_zh}”，不能执行“{action}”；该操作要求状态为：{need}。",
            f"The case is '{row.status}'; '{action}' needs it to be: {', '.join(rule.sources)}.",
            current_status=row.status,
        )
