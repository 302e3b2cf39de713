"""Layers of the project, closure and overview maps (项目图、结案核查图、总览图), built in PostGIS.

Each function is one statement returning GeoJSON (plus tables) as a dict:

- projects: road or water projects of an area by status, the built part (the union of the built
  geometries reported as progress, or the whole project once completed), and totals per township;
- closures: closed cases with the inspector's close-out position, a line from it to the nearest
  point of the case, the ellipsoidal distance against the category's radius;
- overview: villages with their on-time closure rate (按期结案率), open cases as points.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, Date, bindparam, cast, func, not_, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Text

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import NotFound
from gis.filters import area_level
from gis.layers import LEVEL_COLUMN
from gis.lifecycle import CASE_STATUSES, OPEN_STATUSES, PROJECT_STATUSES, RUNNING_STATUSES, labels_zh
from gis.patrols import require_staff

NEAR_LIMIT_SHARE: Final = 0.8  # a close-out beyond 80 % of the radius is highlighted
STATION_NEAR_M: Final = 500.0

PROJECTS = text("""
WITH p AS (
  SELECT p.*, tw.name AS township_name, lead.name AS lead_unit, cat.label_zh AS category_label
  FROM project p JOIN category cat ON cat.code = p.category
  LEFT JOIN region tw ON tw.code = p.township_code LEFT JOIN unit lead ON lead.id = p.lead_unit_id
  WHERE p.category = :category
    AND (p.county_code = :area OR p.township_code = :area OR p.village_code = :area)
), built AS (
  SELECT p.id AS project_id, b.geom AS g FROM p CROSS JOIN LATERAL vm_project_built(p.id) b WHERE b.geom IS NOT NULL
), spent AS (
  SELECT DISTINCT ON (project_id) project_id, spent_wan FROM project_progress
  WHERE spent_wan IS NOT NULL AND project_id IN (SELECT id FROM p) ORDER BY project_id, reported_on DESC, id DESC
), shown AS (
  SELECT p.*, CASE WHEN p.status IN ('completed', 'accepted') THEN p.geom ELSE built.g END AS built_geom,
         spent.spent_wan,
         (SELECT coalesce(json_agg(f.name ORDER BY f.id), '[]') FROM facility f
          WHERE f.category = 'monitoring_station'
            AND ST_DWithin(f.geom::geography, p.geom::geography, :near)) AS stations
  FROM p LEFT JOIN built ON built.project_id = p.id LEFT JOIN spent ON spent.project_id = p.id
)
SELECT json_build_object(
  'projects', json_build_object('type', 'FeatureCollection', 'features', (SELECT coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', s.id, 'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(s.geom), 7)::json,
      'properties', json_build_object(
        'id', s.id, 'code', s.code, 'name', s.name, 'subtype', s.subtype, 'category', s.category,
        'category_label', s.category_label, 'status', s.status, 'status_label', CAST(:labels AS jsonb) ->> s.status,
        'planned_km', s.planned_km, 'built_km', s.built_km,
        'measured_km', round((ST_Length(ST_CollectionExtract(s.geom, 2)::geography) / 1000)::numeric, 3),
        'guardrail_km', s.guardrail_km, 'speed_bumps', s.speed_bumps, 'area_mu', s.area_mu,
        'investment_wan', s.investment_wan, 'spent_wan', s.spent_wan, 'progress_pct', s.progress_pct,
        'deadline', s.deadline, 'lead_unit', s.lead_unit, 'township_code', s.township_code,
        'township_name', s.township_name, 'stations', s.stations,
        'overdue', coalesce(s.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date
                            AND s.status NOT IN ('completed', 'accepted'), false)))
    ORDER BY s.id), '[]') FROM shown s)),
  'built', json_build_object('type', 'FeatureCollection', 'features', (SELECT coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', s.id,
      'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(s.built_geom), 7)::json,
      'properties', json_build_object('id', s.id, 'status', s.status)) ORDER BY s.id), '[]')
    FROM shown s WHERE s.built_geom IS NOT NULL AND GeometryType(s.built_geom) NOT LIKE '%POINT')),
  'totals', (SELECT coalesce(json_agg(row_to_json(x) ORDER BY x.township_code NULLS LAST), '[]') FROM (
    SELECT township_code, min(township_name) AS township_name, count(*) AS projects,
           sum(planned_km) AS planned_km, sum(built_km) AS built_km, sum(guardrail_km) AS guardrail_km,
           sum(speed_bumps) AS speed_bumps, sum(area_mu) AS area_mu,
           count(*) FILTER (WHERE status IN ('completed', 'accepted')) AS done
    FROM shown GROUP BY township_code) x))::text
""")


def project_layers(conn: Connection, kind: str, area: str) -> dict[str, Any]:
    """Road (``kind=road``) or water projects of an area, their built parts and township totals."""
    _area_exists(conn, area)
    category = {"road": "road_project", "water": "water_project"}[kind]
    params = {"category": category, "area": area, "near": STATION_NEAR_M,
              "labels": json.dumps(labels_zh(PROJECT_STATUSES), ensure_ascii=False)}  # fmt: skip
    layers: dict[str, Any] = json.loads(conn.execute(PROJECTS, params).scalar_one())
    return layers


def _area_exists(conn: Connection, area: str) -> str:
    level = area_level(area)
    if conn.execute(select(t.region.c.code).where(t.region.c.code == area)).scalar_one_or_none() is None:
        raise NotFound(f"区域 {area} 不存在。", f"Area {area} does not exist.", code=area)
    return level


CLOSURES = text("""
WITH e AS (
  SELECT DISTINCT ON (case_id) case_id, position, actor, at, photo_ids FROM case_event
  WHERE action = 'close' AND case_id = ANY (:ids) AND position IS NOT NULL ORDER BY case_id, at DESC, id DESC
), x AS (
  SELECT c.id, c.code, c.category, cat.label_zh, cat.closeout_radius_m AS radius, c.geom, c.closed_at,
         e.position, e.actor, e.photo_ids, ST_ClosestPoint(c.geom, e.position) AS near,
         ST_Distance(c.geom::geography, e.position::geography) AS distance
  FROM e JOIN cases c ON c.id = e.case_id JOIN category cat ON cat.code = c.category
)
SELECT coalesce(json_agg(f ORDER BY id, part), '[]')::text FROM (
  SELECT x.id, 1 AS part, json_build_object('type', 'Feature', 'id', 'case-' || x.id,
    'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(x.geom), 7)::json,
    'properties', json_build_object('kind', 'case', 'id', x.id, 'code', x.code, 'category', x.category,
      'category_label', x.label_zh, 'closed_at', x.closed_at, 'inspector', x.actor,
      'distance_m', round(x.distance::numeric, 1), 'radius_m', x.radius,
      'near_limit', x.distance >= :share * x.radius, 'photo', x.photo_ids[1])) AS f FROM x
  UNION ALL
  SELECT x.id, 2, json_build_object('type', 'Feature', 'id', 'closeout-' || x.id,
    'geometry', ST_AsGeoJSON(x.position, 7)::json,
    'properties', json_build_object('kind', 'closeout', 'id', x.id, 'code', x.code, 'category', x.category,
      'category_label', x.label_zh, 'closed_at', x.closed_at, 'inspector', x.actor,
      'distance_m', round(x.distance::numeric, 1), 'radius_m', x.radius, 'near_limit', x.distance >= :share * x.radius,
      'photo', x.photo_ids[1]))
  FROM x
  UNION ALL
  SELECT x.id, 3, json_build_object('type', 'Feature', 'id', 'link-' || x.id,
    'geometry', ST_AsGeoJSON(ST_MakeLine(x.position, x.near), 7)::json,
    'properties', json_build_object('kind', 'link', 'id', x.id, 'distance_m', round(x.distance::numeric, 1),
      'near_limit', x.distance >= :share * x.radius))
  FROM x WHERE x.distance > 0
) parts
""").bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


def closure_layers(
    conn: Connection, p: Principal, area: str, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """Closed cases of an area in the caller's scope with their close-out evidence (staff only)."""
    require_staff(p, "结案核查图", "the close-out map")
    level = _area_exists(conn, area)
    c = t.cases.alias("c")
    stmt = select(c.c.id).where(c.c.status == "closed", c.c[LEVEL_COLUMN[level]] == area, case_scope(p, c))
    local_day = cast(func.timezone("Asia/Shanghai", c.c.closed_at), Date)
    stmt = stmt.where(local_day >= since) if since else stmt
    stmt = stmt.where(local_day <= until) if until else stmt
    ids = [int(v) for v in conn.execute(stmt.order_by(c.c.id)).scalars()]
    features = json.loads(conn.execute(CLOSURES, {"ids": ids, "share": NEAR_LIMIT_SHARE}).scalar_one())
    return {"type": "FeatureCollection", "features": features}


OVERVIEW = text("""
WITH v AS (
  SELECT r.code, r.name, r.geom, r.parent_code FROM region r
  WHERE r.level = 'village' AND r.code LIKE :area || '%'
), stats AS (
  SELECT c.village_code, count(*) FILTER (WHERE c.status = 'closed') AS closed,
         count(*) FILTER (WHERE c.status = 'closed' AND c.closed_on_time) AS on_time,
         count(*) FILTER (WHERE c.status = ANY (:open)) AS open,
         count(*) FILTER (WHERE c.status = ANY (:running)
                          AND c.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date) AS overdue
  FROM cases c WHERE c.village_code IN (SELECT code FROM v) GROUP BY c.village_code
)
SELECT json_build_object(
  'villages', json_build_object('type', 'FeatureCollection', 'features', (SELECT coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', v.code, 'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(v.geom), 6)::json,
      'properties', json_build_object('code', v.code, 'name', v.name, 'township', tw.name,
        'closed', coalesce(s.closed, 0), 'on_time', coalesce(s.on_time, 0), 'open', coalesce(s.open, 0),
        'overdue', coalesce(s.overdue, 0),
        'rate', CASE WHEN s.closed > 0 THEN round(100.0 * s.on_time / s.closed, 1) END))
    ORDER BY v.code), '[]')
    FROM v LEFT JOIN stats s ON s.village_code = v.code LEFT JOIN region tw ON tw.code = v.parent_code)),
  'cases', json_build_object('type', 'FeatureCollection', 'features', (SELECT coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', c.id,
      'geometry', ST_AsGeoJSON(CASE WHEN GeometryType(c.geom) = 'POINT' THEN c.geom
                                    ELSE ST_PointOnSurface(c.geom) END, 6)::json,
      'properties', json_build_object('id', c.id, 'code', c.code, 'category', c.category,
        'category_label', cat.label_zh, 'status', c.status, 'status_label', CAST(:labels AS jsonb) ->> c.status,
        'deadline', c.deadline,
        'overdue', coalesce(c.status = ANY (:running)
                            AND c.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date, false)))
    ORDER BY c.id), '[]')
    FROM cases c JOIN category cat ON cat.code = c.category WHERE c.id = ANY (:ids))))::text
""").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("open", type_=ARRAY(Text)),
    bindparam("running", type_=ARRAY(Text)),
)


def overview_layers(conn: Connection, p: Principal, area: str) -> dict[str, Any]:
    """Villages of an area with on-time closure rates, and the open cases the caller may see as points."""
    level = _area_exists(conn, area)
    c, cat = t.cases.alias("c"), t.category.alias("cat")
    visible = or_(not_(cat.c.private_location), case_scope(p, c))
    stmt = (
        select(c.c.id)
        .join(cat, cat.c.code == c.c.category)
        .where(c.c[LEVEL_COLUMN[level]] == area, c.c.status.in_(OPEN_STATUSES), visible)
        .order_by(c.c.id)
    )
    ids: Sequence[int] = [int(v) for v in conn.execute(stmt).scalars()]
    params = {"area": area, "ids": list(ids), "open": list(OPEN_STATUSES), "running": list(RUNNING_STATUSES),
              "labels": json.dumps(labels_zh(CASE_STATUSES), ensure_ascii=False)}  # fmt: skip
    layers: dict[str, Any] = json.loads(conn.execute(OVERVIEW, params).scalar_one())
    return layers
