"""On-site close-out in two statements (现场结案的快速路径): lock-and-measure, then update-and-event.

The usual close-out (``gis.closeout.close`` under ``apply_action``) takes six statements after the
caller's lookup: the row lock, the photo check, the distance, the photos' EXIF evidence, the update
and its event. Here the row lock also measures the distance on the ellipsoid and reads the photos'
evidence (which are exactly the uploaded photos among ``photo_ids``), and one statement updates the
case and appends its event. The checks run in the same order and raise the same errors as the usual
path; a request that path would refuse before measuring anything (no position, a bad one, malformed
photo ids) or that carries a remedied geometry is left to it (``close_in_two_statements`` → False).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gis.access import Principal
from gis.actions import ActionIn, Rule, check_state, checked_row, lock_statement
from gis.closeout import check_accuracy, check_water_quality, refuse_far
from gis.db import run_sql
from gis.errors import DomainError
from gis.event_log import event_values
from gis.geoinput import AcceptedGeometry, read_point
from gis.photos_db import PHOTO_ID, evidence_of, refuse_unknown
from gis.sqlgeom import wkb

#: The distance (米) from the inspector to the case geometry, on the ellipsoid (as ``closeout.DISTANCE``).
DISTANCE_M = text(
    "ST_Distance(c.geom::geography, ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography) AS distance_m"
).bindparams(bindparam("wkb", type_=Text))

#: The uploaded photos among ``:ids`` with their EXIF distance and age, ordered by id (as ``photos_db.EVIDENCE``).
EVIDENCE_ROWS = text("""
(SELECT json_agg(json_build_array(
            p.id,
            CASE WHEN p.exif_position IS NULL THEN NULL
                 ELSE round(ST_Distance(p.exif_position::geography,
                                        ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography)::numeric, 1) END,
            CASE WHEN p.exif_time IS NULL THEN NULL
                 ELSE round((extract(epoch FROM now() - p.exif_time) / 3600)::numeric, 1) END) ORDER BY p.id)
 FROM photo p WHERE p.id = ANY (:ids)) AS evidence_rows
""").bindparams(bindparam("wkb", type_=Text), bindparam("ids", type_=ARRAY(Text)))

#: The case closed (version + 1, on time or not by the local date) and its event appended, in one statement
#: (the event's values as ``event_log.event_values`` gives them).
CLOSE_AND_RECORD = """
WITH changed AS (
    UPDATE cases SET status = 'closed', version = version + 1, updated_at = now(), closed_at = now(),
           closed_on_time = CASE WHEN deadline IS NULL THEN NULL
                                 ELSE CAST(timezone('Asia/Shanghai', now()) AS date) <= deadline END
    WHERE id = %(case_id)s
    RETURNING county_code
)
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, actor_id, actor_role,
                        position, accuracy_m, position_datum, note, photo_ids, data)
SELECT %(case_id)s, county_code, %(action)s, %(from_status)s, %(to_status)s, %(actor)s, %(actor_id)s, %(role)s,
       ST_GeomFromWKB(decode(%(wkb)s, 'hex'), 4326), %(accuracy)s, %(datum)s, %(note)s, %(photos)s::text[],
       %(data)s::jsonb
FROM changed
"""


@lru_cache(maxsize=256)
def _measuring_lock(p: Principal, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The caller's row lock (``lock_statement``) narrowed to what a close-out reads, plus the distance
    and the evidence: driver SQL and its fixed values, rendered once per caller (its areas inlined as
    parameters, like SQLAlchemy's own cached statement)."""
    lock = lock_statement(p)
    row = lock.selected_columns
    kept = (row.id, row.version, row.status, row.closeout_radius_m, row.accuracy_limit_m, row.closeout_rules,
            row.is_assignee)  # fmt: skip
    stmt = lock.with_only_columns(*kept, DISTANCE_M, EVIDENCE_ROWS).params(case_id=0, wkb="", ids=[])
    expanded = stmt.compile(dialect=dialect).construct_expanded_state()
    return expanded.statement, dict(expanded.parameters)


def _position(a: ActionIn) -> AcceptedGeometry | None:
    """The checked position, or None when the usual path has to refuse or handle the request."""
    if a.position is None or a.remedied_geometry is not None or not a.photo_ids:
        return None
    if not all(PHOTO_ID.match(i) for i in a.photo_ids):
        return None
    try:
        return read_point(a.position, crs=a.crs, field="position")
    except DomainError:
        return None


def close_in_two_statements(conn: Connection, p: Principal, case_id: int, rule: Rule, a: ActionIn) -> bool:
    """结案销号（两条语句）/ close on site like ``apply_action`` does; False: use the usual path."""
    position = _position(a)
    if position is None:
        return False
    position_wkb = wkb(position.geom)
    sql, fixed = _measuring_lock(p, conn.dialect)
    params = fixed | {"case_id": case_id, "wkb": position_wkb, "ids": list(a.photo_ids)}
    row = checked_row(run_sql(conn, sql, params).fetchone(), case_id, rule)
    check_state(row, "close", rule, a)
    accuracy = check_accuracy(a, float(row.accuracy_limit_m))
    rows = row.evidence_rows or []
    known = {r[0] for r in rows}
    refuse_unknown([i for i in a.photo_ids if i not in known])
    distance = refuse_far(float(row.distance_m), float(row.closeout_radius_m))
    water = check_water_quality(dict(row.closeout_rules).get("water_quality", {}), a.measurements)
    data: dict[str, Any] = {"distance_m": round(distance, 1), "evidence": evidence_of(rows)}
    if water:
        data["measurements"] = water
    values = event_values(case_id, p, "close", row.status, "closed", note=a.note, position=position.geom,
                          accuracy_m=accuracy, datum=str(position.datum), photo_ids=a.photo_ids, data=data)  # fmt: skip
    run_sql(conn, CLOSE_AND_RECORD, values)
    return True
