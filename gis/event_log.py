"""The case event log (案件事件): appended in the same transaction as the change it records.

Events are never changed afterwards (a trigger refuses UPDATE and DELETE); each carries the county
code of its case, the actor, and where given the actor's position, accuracy and datum.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from shapely.geometry.base import BaseGeometry

from gis.access import Principal
from gis.sqlgeom import wkb

INSERT_EVENT = text("""
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, actor_id, actor_role,
                        position, accuracy_m, position_datum, note, photo_ids, data)
SELECT :case_id, county_code, :action, :from_status, :to_status, :actor, :actor_id, :role,
       CASE WHEN CAST(:wkb AS text) IS NULL THEN NULL ELSE ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) END,
       :accuracy, :datum, :note, CAST(:photos AS text[]), CAST(:data AS jsonb)
FROM cases WHERE id = :case_id
""")


def record_event(conn: Connection, case_id: int, p: Principal, action: str, from_status: str | None,
                 to_status: str, **details: Any) -> None:  # fmt: skip
    """Append one event (事件) to a case's history (``details``: see :func:`event_values`)."""
    conn.execute(INSERT_EVENT, event_values(case_id, p, action, from_status, to_status, **details))


def event_values(
    case_id: int,
    p: Principal,
    action: str,
    from_status: str | None,
    to_status: str,
    *,
    note: str | None = None,
    position: BaseGeometry | None = None,
    accuracy_m: float | None = None,
    datum: str | None = None,
    photo_ids: tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The bound values of one event row (``INSERT_EVENT``; also the close-out fast path's statement)."""
    return {
        "case_id": case_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor": p.username,
        "actor_id": p.user_id,
        "role": p.role,
        "wkb": wkb(position) if position else None,
        "accuracy": accuracy_m,
        "datum": datum,
        "note": note,
        "photos": list(photo_ids),
        "data": json.dumps(data or {}, ensure_ascii=False, default=str),
    }
