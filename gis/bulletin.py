"""The monthly bulletin (月度通报) of a county or township: figures, lists, series and a map.

上报、立案、应结案、结案、结案率、按期结案率 (gis.figures), the three most reported problem
categories, the cases overdue at the month's end, the red-black list of its parts, reports and
closures per month over the last year, and its parts as GeoJSON coloured by closure rate. The
running month is counted up to today. Staff whose areas hold the whole area see the overdue cases
one by one; everyone else sees only aggregate figures (no case list, never personal data).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from gis import tables as t
from gis.access import Principal
from gis.errors import InvalidParameter, unknown
from gis.figures import Figures, period_figures
from gis.periods import SHANGHAI, Period, previous_months
from gis.rankings import red_black

DETAIL_ROLES = frozenset({"viewer", "admin", "inspector", "village_official", "water_staff", "roads_staff"})
OVERDUE_LIMIT = 50

OVERDUE = text("""
WITH b AS (
  SELECT least(CAST(:d1 AS date), (now() AT TIME ZONE 'Asia/Shanghai')::date) AS dcut,
         (CAST(:d1 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai') AS t1
), last AS (
  SELECT DISTINCT ON (e.case_id) e.case_id, e.to_status
  FROM cases c CROSS JOIN b JOIN case_event e ON e.case_id = c.id AND e.at < b.t1
  WHERE left(c.grid_code, length(:area)) = :area AND c.deadline < b.dcut
  ORDER BY e.case_id, e.at DESC, e.id DESC
)
SELECT c.id, c.code, c.category, cat.label_zh AS category_label, c.title, v.name AS village, tw.name AS township,
       c.deadline, b.dcut - c.deadline AS days_overdue, last.to_status AS status, u.name AS assignee,
       count(*) OVER () AS total
FROM last JOIN cases c ON c.id = last.case_id CROSS JOIN b
JOIN category cat ON cat.code = c.category JOIN region v ON v.code = c.village_code
JOIN region tw ON tw.code = c.township_code LEFT JOIN unit u ON u.id = c.assignee_unit_id
WHERE last.to_status NOT IN ('closed', 'rejected')
ORDER BY c.deadline, c.id
LIMIT :limit
""")

SERIES = text("""
WITH months AS (
  SELECT to_char(m, 'YYYY-MM') AS month FROM generate_series(CAST(:d0 AS date), CAST(:d1 AS date) - 1,
                                                             interval '1 month') m
), ev AS (
  SELECT to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, e.action, count(DISTINCT e.case_id) AS n
  FROM cases c JOIN case_event e ON e.case_id = c.id AND e.action IN ('report', 'close')
   AND e.at >= (CAST(:d0 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai')
   AND e.at < (CAST(:d1 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai')
  WHERE left(c.grid_code, length(:area)) = :area
  GROUP BY 1, 2
)
SELECT m.month, coalesce(r.n, 0) AS reported, coalesce(cl.n, 0) AS closed FROM months m
LEFT JOIN ev r ON r.month = m.month AND r.action = 'report'
LEFT JOIN ev cl ON cl.month = m.month AND cl.action = 'close'
ORDER BY m.month
""")

CHILD_SHAPES = text("""
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
  'type', 'Feature', 'id', r.code,
  'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(ST_SimplifyPreserveTopology(r.geom, 0.0004)), 5)::json,
  'properties', json_build_object('code', r.code, 'name', r.name,
    'label', ST_AsGeoJSON(ST_PointOnSurface(r.geom), 5)::json -> 'coordinates')) ORDER BY r.code), '[]'))::text
FROM region r WHERE r.parent_code = :area
""")


def may_see_cases(p: Principal, area: str) -> bool:
    """Staff whose areas hold the whole ``area`` may see its cases one by one."""
    return p.role in DETAIL_ROLES and any(area.startswith(a) for a in p.areas)


def area_row(conn: Connection, area: str, levels: tuple[str, ...] = ("county", "township")) -> Any:
    """The region row of a county or township, or a clear 400/404."""
    r = t.region
    row = conn.execute(select(r.c.code, r.c.name, r.c.level, r.c.parent_code).where(r.c.code == area)).one_or_none()
    if row is None:
        raise unknown("area", area, "区域代码", "area code")
    if row.level not in levels:
        raise InvalidParameter(
            "area",
            "月度通报按区县（6 位）或乡镇（9 位）编制。",
            "Bulletins are made for a county (6 digits) or a township (9 digits).",
            value=area,
        )
    return row


def overdue_cases(conn: Connection, area: str, period: Period, limit: int = OVERDUE_LIMIT) -> dict[str, Any]:
    """Cases open and past their deadline at the period's end (oldest deadline first)."""
    rows = conn.execute(OVERDUE, {"area": area, "d1": period.end, "limit": limit}).all()
    cases = [
        {k: (v.isoformat() if k == "deadline" else v) for k, v in r._mapping.items() if k != "total"} for r in rows
    ]
    return {"total": int(rows[0].total) if rows else 0, "shown": len(cases), "cases": cases}


def top_categories(conn: Connection, f: Figures, count: int = 3) -> list[dict[str, Any]]:
    """The most reported categories of the period, with their share of all reports."""
    c = t.category
    labels = {r.code: (r.label_zh, r.label_en) for r in conn.execute(select(c.c.code, c.c.label_zh, c.c.label_en))}
    ranked = sorted(f.categories.items(), key=lambda kv: (-kv[1]["reported"], kv[0]))
    return [
        {
            "category": code,
            "label_zh": labels[code][0],
            "label_en": labels[code][1],
            "reported": v["reported"],
            "share": v["reported"] / f.reported if f.reported else None,
        }
        for code, v in ranked[:count]
        if v["reported"]
    ]


def monthly_series(conn: Connection, area: str, period: Period, months: int = 12) -> list[dict[str, Any]]:
    """Cases reported and closed per month over the ``months`` ending with ``period``."""
    first = previous_months(period, months)[0]
    rows = conn.execute(SERIES, {"area": area, "d0": first.start, "d1": period.end})
    return [{"month": r.month, "reported": int(r.reported), "closed": int(r.closed)} for r in rows]


def child_map(conn: Connection, area: str, values: dict[str, float | None]) -> dict[str, Any]:
    """The area's parts as GeoJSON (simplified in PostGIS), each with ``value`` to colour by."""
    shapes: dict[str, Any] = json.loads(conn.execute(CHILD_SHAPES, {"area": area}).scalar_one())
    for feature in shapes["features"]:
        feature["properties"]["value"] = values.get(feature["properties"]["code"])
    return shapes


def monthly_bulletin(conn: Connection, area: str, period: Period, p: Principal) -> dict[str, Any]:
    """Everything the bulletin shows, as plain data for the HTML, XLSX and PDF renderers."""
    row = area_row(conn, area)
    members = period_figures(conn, period, area=area, member_len=len(area) + 3)
    total = Figures()
    for f in members.values():
        total.add(f)
    ranking = red_black(conn, area, period, figures=members)
    names = {e["code"]: e["name"] for e in ranking["entries"]}
    overdue = overdue_cases(conn, area, period)
    detail = may_see_cases(p, area)
    if not detail:
        overdue = {"total": overdue["total"], "shown": 0, "cases": []}
    return {
        "area": {"code": row.code, "name": row.name, "level": row.level},
        "period": ranking["period"],
        "generated_at": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "detail": detail,
        "figures": total.as_dict(),
        "top_categories": top_categories(conn, total),
        "overdue": overdue,
        "red_black": ranking,
        "series": monthly_series(conn, area, period),
        "members": [
            {"code": code, "name": names.get(code, code), **members.get(code, Figures()).as_dict()} for code in names
        ],
        "map": child_map(conn, area, {code: f.closure_rate for code, f in members.items()}),
    }
