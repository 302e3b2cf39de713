"""Open311 service requests read (报事查询): cases in the public view, built in one statement.

No personal data ever: no reporter, no grid; a category with a private location gives the
village committee point, no description and no media. Dates are ISO 8601 with the +08:00 offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, DateTime, Numeric, Text, and_, case, cast, func, literal, null, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gis import tables as t
from gis.access import ANONYMOUS
from gis.cases import assignee, c, case_base, cat, lead, v, village_point
from gis.errors import NotFound
from gis.geojson import json_labels, json_object
from gis.lifecycle import CASE_STATUSES

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS: Final = 90
MAX_REQUESTS: Final = 1000
CLOSED: Final = ("closed", "rejected")
STATUS_NOTES: Final = {code: f"{zh} {en}" for code, (zh, en) in CASE_STATUSES.items()}


@dataclass(frozen=True)
class RequestsQuery:
    """GET requests filters (查询条件); ``ids`` overrides everything else, as the spec says."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    county: str | None = None


def _local(stamp: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.to_char(func.timezone("Asia/Shanghai", stamp), 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')


def _media(base: str, hidden: ColumnElement[bool]) -> ColumnElement[Any]:
    e = t.case_event
    given = e.c.data.op("->>")("media_url")
    photo = literal(f"{base}/cases/", Text) + cast(c.c.id, Text) + "/photos/" + e.c.photo_ids[1]
    first = (
        select(func.coalesce(given, photo))
        .where(e.c.case_id == c.c.id, e.c.action == "report")
        .order_by(e.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return case((hidden, null()), else_=first)


def _fields(base: str) -> dict[str, Any]:
    hidden = cat.c.private_location
    point = case((hidden, village_point()), else_=func.ST_PointOnSurface(c.c.geom))
    deadline_end = func.to_char(c.c.deadline + 1, 'YYYY-MM-DD"T00:00:00+08:00"')
    return {
        "service_request_id": cast(c.c.id, Text),
        "status": case((c.c.status.in_(CLOSED), "closed"), else_="open"),
        "status_notes": json_labels(STATUS_NOTES).op("->>")(c.c.status),
        "service_name": cat.c.label_zh + " " + cat.c.label_en,
        "service_code": c.c.category,
        "description": case((hidden, null()), else_=func.nullif(c.c.description, "")),
        "agency_responsible": func.coalesce(assignee.c.name, lead.c.name),
        "service_notice": case(
            (func.cardinality(c.c.possible_duplicates) > 0, "可能重复 possible duplicate"), else_=null()
        ),
        "requested_datetime": _local(c.c.reported_at),
        "updated_datetime": _local(c.c.updated_at),
        "expected_datetime": deadline_end,
        "address": v.c.name,
        "address_id": c.c.village_code,
        "zipcode": null(),
        "lat": cast(func.round(cast(func.ST_Y(point), Numeric), 7), Numeric),
        "long": cast(func.round(cast(func.ST_X(point), Numeric), 7), Numeric),
        "media_url": _media(base, hidden),
    }


def _conditions(q: RequestsQuery) -> list[ColumnElement[bool]]:
    if q.ids:
        return [c.c.id.in_(q.ids)]
    found: list[ColumnElement[bool]] = []
    if q.service_codes:
        found.append(c.c.category.in_(q.service_codes))
    if q.statuses and set(q.statuses) != {"open", "closed"}:
        found.append(c.c.status.in_(CLOSED) if q.statuses == ("closed",) else c.c.status.not_in(CLOSED))
    end = literal(q.end, DateTime(timezone=True)) if q.end else func.now()
    start = literal(q.start, DateTime(timezone=True)) if q.start else end - func.make_interval(0, 0, 0, DEFAULT_DAYS)
    found += [c.c.reported_at >= start, c.c.reported_at <= end]
    if q.county:
        found.append(c.c.county_code == q.county)
    return found


def list_requests(conn: Connection, q: RequestsQuery, base: str) -> list[dict[str, Any]]:
    """``GET requests``: at most 1,000, newest first (default: the last 90 days)."""
    item = json_object(_fields(base))
    rows = (
        case_base(ANONYMOUS)
        .with_only_columns(item.label("item"), c.c.reported_at.label("at"), c.c.id.label("id"))
        .where(and_(*_conditions(q)))
        .order_by(c.c.reported_at.desc(), c.c.id.desc())
        .limit(MAX_REQUESTS)
        .subquery("rows")
    )
    agg = func.coalesce(
        cast(func.json_agg(aggregate_order_by(rows.c.item, rows.c.at.desc(), rows.c.id.desc())), Text), "[]"
    )
    text = conn.execute(select(cast(agg, Text)).select_from(rows)).scalar_one()
    found: list[dict[str, Any]] = json.loads(text)
    return found


def one_request(conn: Connection, request_id: str, base: str) -> list[dict[str, Any]]:
    """``GET requests/{id}``: a one-item list, or a 404."""
    if not request_id.isdigit() or len(request_id) > 18:
        raise _missing(request_id)
    stmt = (
        case_base(ANONYMOUS).with_only_columns(cast(json_object(_fields(base)), Text)).where(c.c.id == int(request_id))
    )
    text = conn.execute(stmt).scalar_one_or_none()
    if text is None:
        raise _missing(request_id)
    return [json.loads(text)]


def _missing(request_id: str) -> NotFound:
    return NotFound(f"没有报事单“{request_id}”。", f"There is no service request '{request_id}'.", id=request_id)


def known_counties(conn: Connection) -> list[str]:
    """The loaded county codes (valid ``jurisdiction_id`` values)."""
    r = t.region
    return [str(x) for x in conn.execute(select(r.c.code).where(r.c.level == "county").order_by(r.c.code)).scalars()]
