"""A case's history (案件流转记录): every event, in the view the reader may have.

Everyone sees what happened and when; within the caller's scope also who did it, where they stood,
their note, photos and the data the event carries (e.g. close-out evidence).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Text, case, cast, func, literal_column, null, select

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import NotFound
from gis.geojson import geometry_json, json_labels, json_object
from gis.lifecycle import EVENT_ACTIONS, labels_zh

c = t.cases.alias("c")
e = t.case_event.alias("e")


def _event(whole: Any) -> Any:
    def staff(value: Any) -> Any:
        return case((whole, value), else_=null())

    return json_object(
        {
            "id": e.c.id,
            "action": e.c.action,
            "action_label": json_labels(labels_zh(EVENT_ACTIONS)).op("->>")(e.c.action),
            "from_status": e.c.from_status,
            "to_status": e.c.to_status,
            "at": e.c.at,
            "actor": staff(e.c.actor),
            "actor_role": staff(e.c.actor_role),
            "note": staff(e.c.note),
            "position": staff(geometry_json(e.c.position)),
            "accuracy_m": staff(e.c.accuracy_m),
            "position_datum": staff(e.c.position_datum),
            "photo_ids": staff(e.c.photo_ids),
            "data": staff(e.c.data),
        }
    )


def case_events(conn: Connection, case_id: int, p: Principal) -> str:
    """``GET /cases/{id}/events``: the case's events in order, as JSON text (one statement)."""
    whole = case_scope(p, c)
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    events = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(_event(whole), e.c.at, e.c.id)), literal_column("'[]'::json")
            )
        )
        .where(e.c.case_id == c.c.id)
        .scalar_subquery()
    )
    body = json_object({"case_id": c.c.id, "code": c.c.code, "in_scope": whole, "events": events})
    found = conn.execute(select(cast(body, Text)).where(c.c.id == case_id)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"案件 {case_id} 不存在。", f"Case {case_id} does not exist.", case_id=case_id)
    return str(found)
