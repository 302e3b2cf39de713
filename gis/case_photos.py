"""A case's photos (案件照片): which photos belong to a case, who may see them, their watermark.

A photo belongs to a case when one of its events references it (report, resolve, close, attach).
Photos of categories with a private location (危房, 户厕: somebody's home) are shown only within the
caller's scope; everyone may see the others. Served copies carry a watermark (水印) with the capture
time, the case code and the place, as field staff expect from evidence photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, or_, select, text

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import NotAuthenticated, NotFound
from gis.event_log import record_event
from gis.photos_db import check_photos

PHOTOS = text("""
SELECT p.id, p.content_type, p.width, p.height, p.uploaded_at,
       to_char(coalesce(p.exif_time, p.uploaded_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS taken,
       min(e.at) AS attached_at
FROM case_event e CROSS JOIN LATERAL unnest(e.photo_ids) AS ref(photo_id)
JOIN photo p ON p.id = ref.photo_id
WHERE e.case_id = :case_id
GROUP BY p.id
ORDER BY min(e.at), p.id
""")

PLACE = text("""
SELECT c.code, t.name || ' ' || v.name AS place, cat.private_location
FROM cases c JOIN region v ON v.code = c.village_code JOIN region t ON t.code = c.township_code
JOIN category cat ON cat.code = c.category
WHERE c.id = :case_id
""")


def _visible_case(conn: Connection, case_id: int, p: Principal) -> Any:
    c = t.cases.alias("c")
    place = conn.execute(PLACE, {"case_id": case_id}).one_or_none()
    in_scope = conn.execute(select(c.c.id).where(c.c.id == case_id, case_scope(p, c))).one_or_none()
    if place is None or (place.private_location and in_scope is None):
        raise NotFound(
            f"案件 {case_id} 不存在，或其照片不公开。", f"Case {case_id} does not exist or its photos are not public."
        )
    return place


def case_photos(conn: Connection, case_id: int, p: Principal) -> list[dict[str, Any]]:
    """The photos of a case the caller may see, oldest first, with their serving paths."""
    _visible_case(conn, case_id, p)
    rows = conn.execute(PHOTOS, {"case_id": case_id}).all()
    return [
        {"id": r.id, "content_type": r.content_type, "width": r.width, "height": r.height, "taken": r.taken,
         "url": f"/cases/{case_id}/photos/{r.id}", "thumbnail_url": f"/cases/{case_id}/photos/{r.id}/thumb"}
        for r in rows
    ]  # fmt: skip


def watermark_lines(conn: Connection, case_id: int, photo_id: str, p: Principal) -> list[str]:
    """The watermark of a case's photo: capture time, case code, township and village."""
    place = _visible_case(conn, case_id, p)
    taken = next((row["taken"] for row in case_photos(conn, case_id, p) if row["id"] == photo_id), None)
    if taken is None:
        raise NotFound(f"案件 {case_id} 没有照片 {photo_id}。", f"Case {case_id} has no photo {photo_id}.")
    return [str(taken), str(place.code), str(place.place)]


#: Roles that add photos to a case (viewers are read only; roads staff have no cases).
ATTACH_ROLES = ("grid_manager", "inspector", "village_official", "water_staff", "contractor", "admin")


def may_attach(conn: Connection, p: Principal, case_id: int) -> str:
    """The case's status if the caller may add photos to it: 401 public, 403 read-only role, 404 out of scope.

    Called before any upload is stored, so a refused caller leaves no file behind.
    """
    if p.anonymous:
        raise NotAuthenticated("补充照片须先登录。", "Sign in to add photos to a case.")
    p.require(*ATTACH_ROLES)
    c = t.cases.alias("c")
    assignee = or_(
        c.c.assignee_unit_id == p.unit_id if p.unit_id is not None else False, c.c.assignee_user == p.username
    )
    row = conn.execute(select(c.c.status).where(c.c.id == case_id, or_(case_scope(p, c), assignee))).one_or_none()
    if row is None:
        raise NotFound(
            f"案件 {case_id} 不存在，或不在您的工作范围内。", f"Case {case_id} does not exist or is outside your scope."
        )
    return str(row.status)


def attach_photos(conn: Connection, p: Principal, case_id: int, photo_ids: Sequence[str]) -> None:
    """补充照片: staff in scope (or the assignee) add photos to a case, recorded as an event."""
    status = may_attach(conn, p, case_id)
    check_photos(conn, photo_ids)
    record_event(conn, case_id, p, "attach_photos", status, status, photo_ids=tuple(photo_ids))
