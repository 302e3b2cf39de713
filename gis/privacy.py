"""Personal data (个人信息): a reporter's name and phone are erased on request (PIPL).

The name and phone are replaced by a marker (``erased_at``); the erasure is itself an event, by whom
and when; nothing else about the case changes (status and version stay as they are).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import Conflict, NotFound
from gis.event_log import record_event


def erase_reporter(conn: Connection, p: Principal, case_id: int) -> None:
    """Erase the reporter's name and phone of a case in the caller's scope (删除上报人信息)."""
    p.require("admin", "inspector")
    c, r = t.cases.alias("c"), t.case_reporter
    row = conn.execute(
        select(c.c.status, r.c.erased_at, r.c.case_id.label("has_reporter"))
        .outerjoin(r, r.c.case_id == c.c.id)
        .where(c.c.id == case_id, case_scope(p, c))
        .with_for_update(of=c)
    ).one_or_none()
    if row is None:
        raise NotFound(
            f"案件 {case_id} 不存在，或不在您的工作范围内。", f"Case {case_id} does not exist or is outside your scope."
        )
    if row.has_reporter is None or row.erased_at is not None:
        raise Conflict("该案件没有可删除的上报人信息。", "This case holds no reporter data to erase.")
    conn.execute(update(r).where(r.c.case_id == case_id).values(name=None, phone=None, erased_at=func.now()))
    record_event(conn, case_id, p, "erase_reporter", row.status, row.status, note="应本人要求删除上报人姓名和电话")
