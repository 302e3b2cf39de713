"""What the maps show beyond the patrol-map layers (地图数据), each read in one PostGIS statement.

- :func:`case_extras`: per case, a navigation point and the first photo the caller may see;
- :func:`private_cases_in_scope`: open cases of private-location categories (危房, 户厕) of a grid,
  for staff whose scope holds them (the public patrol map never has them);
- :func:`area_base`: an area's region outlines and base-map lines, for the offline background.

The project, closure and overview maps read theirs in :mod:`gis.maps_layers`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Text

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import NotFound
from gis.filters import area_level
from gis.lifecycle import CASE_STATUSES, OPEN_STATUSES, RUNNING_STATUSES, labels_zh

EXTRAS = text("""
SELECT c.id, ST_X(p.g), ST_Y(p.g), ph.id
FROM cases c
CROSS JOIN LATERAL (SELECT CASE WHEN GeometryType(c.geom) = 'POINT' THEN c.geom
                                ELSE ST_PointOnSurface(c.geom) END AS g) p
LEFT JOIN LATERAL (
  SELECT ref.photo_id AS id FROM case_event e CROSS JOIN LATERAL unnest(e.photo_ids) AS ref(photo_id)
  WHERE e.case_id = c.id AND ref.photo_id IN (SELECT id FROM photo)
  ORDER BY e.at DESC, ref.photo_id LIMIT 1) ph ON true
WHERE c.id = ANY (:ids)
ORDER BY c.id
""").bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


def case_extras(conn: Connection, p: Principal, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Navigation point (WGS84) and latest photo id per case; photos of private categories only in scope."""
    if not case_ids:
        return {}
    c, cat = t.cases.alias("c"), t.category.alias("cat")
    hidden = (
        select(c.c.id)
        .join(cat, cat.c.code == c.c.category)
        .where(c.c.id.in_(case_ids), cat.c.private_location, ~case_scope(p, c))
    )
    private = {int(v) for v in conn.execute(hidden).scalars()}
    out: dict[int, dict[str, Any]] = {}
    for case_id, lon, lat, photo in conn.execute(EXTRAS, {"ids": case_ids}).all():
        out[int(case_id)] = {"lon": float(lon), "lat": float(lat), "photo": None if case_id in private else photo}
    return out


PRIVATE_FEATURES = text("""
SELECT coalesce(json_agg(json_build_object(
  'type', 'Feature', 'id', c.id, 'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(c.geom), 7)::json,
  'properties', json_build_object(
    'id', c.id, 'code', c.code, 'category', c.category, 'category_label', cat.label_zh,
    'status', c.status, 'status_label', CAST(:labels AS jsonb) ->> c.status, 'deadline', c.deadline,
    'overdue', coalesce(c.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date AND c.status = ANY (:running), false),
    'title', c.title, 'description', c.description, 'grid_code', c.grid_code)) ORDER BY c.id), '[]')::text
FROM cases c JOIN category cat ON cat.code = c.category
WHERE c.id = ANY (:ids)
""").bindparams(bindparam("ids", type_=ARRAY(BigInteger)), bindparam("running", type_=ARRAY(Text)))

PRIVATE_STYLES = text("""
SELECT code, label_zh, label_en, color, symbol FROM category
WHERE kind = 'problem' AND private_location ORDER BY sort_order
""")


def private_cases_in_scope(conn: Connection, p: Principal, grid_code: str) -> dict[str, Any]:
    """Open private-location cases of the grid within the caller's scope, as patrol-map features."""
    c, cat, g = t.cases.alias("c"), t.category.alias("cat"), t.region.alias("g")
    grid_geom = select(g.c.geom).where(g.c.code == grid_code).scalar_subquery()
    ids = list(
        conn.execute(
            select(c.c.id)
            .join(cat, cat.c.code == c.c.category)
            .where(cat.c.private_location, c.c.status.in_(OPEN_STATUSES), case_scope(p, c))
            .where(or_(c.c.grid_code == grid_code, func.ST_Intersects(c.c.geom, grid_geom)))
        ).scalars()
    )
    features = json.loads(
        conn.execute(
            PRIVATE_FEATURES,
            {"ids": ids, "labels": json.dumps(labels_zh(CASE_STATUSES)), "running": list(RUNNING_STATUSES)},
        ).scalar_one()
    )
    styles = [dict(r._mapping) for r in conn.execute(PRIVATE_STYLES).all()]
    return {"type": "FeatureCollection", "features": features, "categories": styles}


AREA_BASE = text("""
WITH a AS (SELECT code, level, name, geom FROM region WHERE code = :area),
box AS (SELECT ST_Expand(geom, 0.005) AS b FROM a),
regions AS (
  SELECT r.code, json_build_object('type', 'Feature', 'id', r.code,
    'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(r.geom), 6)::json,
    'properties', json_build_object('code', r.code, 'name', r.name, 'level', r.level,
      'label_point', json_build_array(round(ST_X(coalesce(r.seat, ST_PointOnSurface(r.geom)))::numeric, 6),
                                      round(ST_Y(coalesce(r.seat, ST_PointOnSurface(r.geom)))::numeric, 6)))) AS f
  FROM region r, a
  WHERE r.code LIKE a.code || '%' AND r.level IN ('township', 'village')
), lines AS (
  SELECT b.id, json_build_object('type', 'Feature', 'id', b.id, 'geometry', ST_AsGeoJSON(b.geom, 6)::json,
    'properties', json_build_object('kind', b.kind, 'name', b.name)) AS f
  FROM base_line b, box WHERE b.geom && box.b
)
SELECT json_build_object(
  'area', (SELECT json_build_object('type', 'Feature', 'id', a.code,
            'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(a.geom), 6)::json,
            'properties', json_build_object('code', a.code, 'name', a.name, 'level', a.level)) FROM a),
  'regions', json_build_object('type', 'FeatureCollection',
             'features', (SELECT coalesce(json_agg(f ORDER BY code), '[]') FROM regions)),
  'lines', json_build_object('type', 'FeatureCollection',
           'features', (SELECT coalesce(json_agg(f ORDER BY id), '[]') FROM lines)))::text
FROM a
""")


def area_base(conn: Connection, area: str) -> dict[str, Any]:
    """The area's outline, its townships and villages, and base lines around it (底图)."""
    area_level(area)
    found = conn.execute(AREA_BASE, {"area": area}).scalar_one_or_none()
    if found is None:
        raise NotFound(f"区域 {area} 不存在。", f"Area {area} does not exist.", code=area)
    base: dict[str, Any] = json.loads(found)
    return base


def category_styles(conn: Connection) -> dict[str, dict[str, str]]:
    """Category code → map colour and labels (类别样式)."""
    c = t.category
    rows = conn.execute(select(c.c.code, c.c.color, c.c.label_zh, c.c.label_en)).all()
    return {str(code): {"color": str(colour), "zh": str(zh), "en": str(en)} for code, colour, zh, en in rows}
