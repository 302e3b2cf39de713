"""Reading patrol records (巡查记录查询): tracks as GeoJSON, the latest per grid, who has not patrolled.

Tracks are staff data: only staff whose areas hold the grid see them (areas are code prefixes:
a grid code starts with its village, township and county codes). One statement per read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gis.access import Principal
from gis.errors import InvalidParameter
from gis.patrols import REASONS, require_staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
_LABELS = json.dumps({code: f"{zh} {en}" for code, (zh, en) in REASONS.items()}, ensure_ascii=False)

PATROLS = text("""
WITH rows AS (
  SELECT pt.id, pt.started_at, json_build_object('type', 'Feature', 'id', pt.id,
    'geometry', ST_AsGeoJSON(pt.track, 7)::json,
    'properties', json_build_object(
      'id', pt.id, 'grid_code', pt.grid_code, 'grid_name', g.name, 'user', u.display_name,
      'started_at', pt.started_at, 'ended_at', pt.ended_at,
      'length_m', round(pt.length_m::numeric, 1), 'duration_s', round(pt.duration_s::numeric),
      'valid', pt.valid, 'invalid_reasons', pt.invalid_reasons,
      'reason_labels', (SELECT coalesce(json_agg(CAST(:labels AS jsonb) ->> code ORDER BY n), '[]')
                        FROM unnest(pt.invalid_reasons) WITH ORDINALITY AS x(code, n)),
      'rule', (SELECT json_build_object('min_minutes', min_minutes, 'min_km', min_km, 'per_days', per_days)
               FROM patrol_rule WHERE level = 'grid'),
      'passed_cases', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'code', c.code,
                         'category', c.category, 'status', c.status) ORDER BY c.id), '[]')
                       FROM cases c WHERE c.id = ANY (pt.passed_case_ids)),
      'source', pt.source, 'created_at', pt.created_at)) AS f
  FROM patrol pt JOIN region g ON g.code = pt.grid_code LEFT JOIN app_user u ON u.id = pt.user_id
  WHERE EXISTS (SELECT 1 FROM unnest(CAST(:areas AS text[])) a WHERE pt.grid_code LIKE a || '%')
    AND (CAST(:grid AS text) IS NULL OR pt.grid_code LIKE CAST(:grid AS text) || '%')
    AND (CAST(:since AS timestamptz) IS NULL OR pt.started_at >= CAST(:since AS timestamptz))
    AND (CAST(:until AS timestamptz) IS NULL OR pt.started_at < CAST(:until AS timestamptz))
    AND (CAST(:after AS bigint) IS NULL OR pt.id > CAST(:after AS bigint))
  ORDER BY CASE WHEN CAST(:latest AS boolean) THEN pt.started_at END DESC, pt.id
  LIMIT :limit + 1
), numbered AS (
  SELECT id, f, row_number() OVER (ORDER BY CASE WHEN CAST(:latest AS boolean) THEN started_at END DESC, id) AS rn
  FROM rows
)
SELECT json_build_object('type', 'FeatureCollection',
  'numberReturned', least(count(*), :limit),
  'features', coalesce(json_agg(f ORDER BY rn) FILTER (WHERE rn <= :limit), '[]'),
  'next_after', CASE WHEN count(*) > :limit THEN max(id) FILTER (WHERE rn <= :limit) END)::text
FROM numbered
""").bindparams(bindparam("areas", type_=ARRAY(Text)))


@dataclass(frozen=True)
class PatrolQuery:
    """Filters of ``GET /patrols`` (巡查记录查询条件): grid or area code, local dates, paging."""

    grid: str | None = None
    since: date | None = None
    until: date | None = None
    after: int | None = None
    limit: int = 100


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day (Asia/Shanghai)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def patrol_page(conn: Connection, p: Principal, q: PatrolQuery) -> dict[str, Any]:
    """``GET /patrols``: one page of patrols in the caller's areas, oldest id first."""
    require_staff(p)
    if q.since and q.until and q.until < q.since:
        raise InvalidParameter("to", "结束日期早于开始日期。", "'to' is before 'from'.", value=str(q.until))
    params = {
        "areas": list(p.areas),
        "grid": q.grid,
        "since": local_midnight(q.since) if q.since else None,
        "until": local_midnight(q.until + timedelta(days=1)) if q.until else None,
        "after": q.after,
        "limit": q.limit,
        "latest": False,
        "labels": _LABELS,
    }
    page: dict[str, Any] = json.loads(conn.execute(PATROLS, params).scalar_one())
    return page


def latest_patrol(conn: Connection, p: Principal, grid_code: str) -> dict[str, Any] | None:
    """The grid's latest patrol as a Feature, for staff in scope; None for others or when none."""
    if p.anonymous or p.role == "contractor":
        return None
    params = {"areas": list(p.areas), "grid": grid_code, "since": None, "until": None, "after": None,
              "limit": 1, "latest": True, "labels": _LABELS}  # fmt: skip
    page = json.loads(conn.execute(PATROLS, params).scalar_one())
    return dict(page["features"][0]) if page["features"] else None


UNPATROLLED = text("""
WITH grids AS (
  SELECT g.code, g.name, v.name AS village, t.name AS township
  FROM region g JOIN region v ON v.code = g.parent_code JOIN region t ON t.code = v.parent_code
  WHERE g.level = 'grid' AND g.code LIKE :area || '%'
    AND EXISTS (SELECT 1 FROM unnest(CAST(:areas AS text[])) a WHERE g.code LIKE a || '%')
), managers AS (
  SELECT a.area_code, string_agg(u.display_name, '、' ORDER BY u.display_name) AS names
  FROM user_area a JOIN app_user u ON u.id = a.user_id
  WHERE a.to_at IS NULL AND u.role = 'grid_manager' AND u.active
  GROUP BY a.area_code
), week AS (
  SELECT grid_code, count(*) AS patrols, count(*) FILTER (WHERE valid) AS valid
  FROM patrol WHERE started_at >= :since AND started_at < :until AND grid_code LIKE :area || '%'
  GROUP BY grid_code
), last AS (
  SELECT grid_code, max(started_at) AS at FROM patrol WHERE valid AND grid_code LIKE :area || '%'
  GROUP BY grid_code
)
SELECT json_build_object(
  'total_grids', count(*),
  'grids', coalesce(json_agg(json_build_object(
      'grid_code', g.code, 'grid_name', g.name, 'village', g.village, 'township', g.township,
      'managers', m.names, 'patrols_this_week', coalesce(w.patrols, 0), 'last_valid_patrol', l.at)
    ORDER BY g.code) FILTER (WHERE coalesce(w.valid, 0) = 0), '[]'))::text
FROM grids g
LEFT JOIN managers m ON m.area_code = g.code
LEFT JOIN week w ON w.grid_code = g.code
LEFT JOIN last l ON l.grid_code = g.code
""").bindparams(bindparam("areas", type_=ARRAY(Text)))


def iso_week(raw: str | None, today: date | None = None) -> date:
    """The Monday of an ISO week ``2022-W01`` (default: this week in Asia/Shanghai)."""
    if raw is None:
        day = today or datetime.now(SHANGHAI).date()
        return day - timedelta(days=day.weekday())
    try:
        year, week = raw.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise InvalidParameter(
            "week",
            f"周“{raw}”格式不对：应为 ISO 周，如 2022-W01。",
            f"week '{raw}' must be an ISO week like 2022-W01.",
            value=raw,
        ) from None


def unpatrolled_grids(conn: Connection, p: Principal, area: str, monday: date) -> dict[str, Any]:
    """Grids of ``area`` in the caller's scope without a valid patrol in the week (本周未巡查网格)."""
    require_staff(p)
    params = {"area": area, "areas": list(p.areas), "since": local_midnight(monday),
              "until": local_midnight(monday + timedelta(days=7))}  # fmt: skip
    found: dict[str, Any] = json.loads(conn.execute(UNPATROLLED, params).scalar_one())
    iso = monday.isocalendar()
    return {"area": area, "week": f"{iso.year}-W{iso.week:02d}", "monday": monday.isoformat()} | found
