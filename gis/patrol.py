"""What a grid's patrol map (网格巡查图) shows, fetched in one statement.

The grid and its village, the neighbouring villages and this village's other grids (for the
offline base map and its labels), base-map lines around the village, and the open cases of the
grid: those it owns and those of other grids that cross it (DESIGN §2). Until roles arrive the map
is public, so categories with a private location (危房, 户厕) are left off it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gis.errors import NotFound
from gis.filters import area_level
from gis.lifecycle import CASE_STATUSES, OPEN_STATUSES, RUNNING_STATUSES, labels_zh

LAYERS_SQL = text("""
WITH g AS (SELECT * FROM region WHERE code = :grid AND level = 'grid'),
v AS (SELECT r.* FROM region r JOIN g ON r.code = g.parent_code),
t AS (SELECT r.* FROM region r JOIN v ON r.code = v.parent_code),
around AS (SELECT ST_Expand(v.geom, 0.01) AS box FROM v),
region_feature AS (
  SELECT r.code, r.level, json_build_object(
    'type', 'Feature', 'id', r.code,
    'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(r.geom), 7)::json,
    'properties', json_build_object('code', r.code, 'name', r.name, 'level', r.level,
      'label_point', json_build_array(
        round(ST_X(coalesce(r.seat, ST_PointOnSurface(r.geom)))::numeric, 7),
        round(ST_Y(coalesce(r.seat, ST_PointOnSurface(r.geom)))::numeric, 7)))) AS f
  FROM region r, v, g
  WHERE (r.level = 'village' AND r.parent_code = v.parent_code)
     OR (r.level = 'grid' AND r.parent_code = v.code)
     OR r.code = g.code
), open_case AS (
  SELECT c.id, json_build_object(
    'type', 'Feature', 'id', c.id,
    'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(c.geom), 7)::json,
    'properties', json_build_object(
      'id', c.id, 'code', c.code, 'category', c.category, 'category_label', cat.label_zh,
      'status', c.status, 'status_label', CAST(:status_labels AS jsonb) ->> c.status,
      'deadline', c.deadline,
      'overdue', c.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date
                 AND c.status = ANY (:running),
      'title', c.title, 'description', c.description, 'grid_code', c.grid_code)) AS f
  FROM cases c JOIN category cat ON cat.code = c.category, g
  WHERE c.status = ANY (:open) AND NOT cat.private_location
    AND (c.grid_code = g.code OR (c.geom && g.geom AND ST_Intersects(c.geom, g.geom)))
), line AS (
  SELECT b.id, json_build_object(
    'type', 'Feature', 'id', b.id, 'geometry', ST_AsGeoJSON(b.geom, 7)::json,
    'properties', json_build_object('kind', b.kind, 'name', b.name)) AS f
  FROM base_line b, around WHERE b.geom && around.box
)
SELECT json_build_object(
  'grid', (SELECT f FROM region_feature WHERE code = :grid),
  'village', (SELECT json_build_object('type', 'Feature', 'id', v.code,
      'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(v.geom), 7)::json,
      'properties', json_build_object('code', v.code, 'name', v.name)) FROM v),
  'township_name', (SELECT name FROM t),
  'neighbours', json_build_object('type', 'FeatureCollection', 'features',
      (SELECT coalesce(json_agg(f ORDER BY level DESC, code), '[]') FROM region_feature)),
  'lines', json_build_object('type', 'FeatureCollection', 'features',
      (SELECT coalesce(json_agg(f ORDER BY id), '[]') FROM line)),
  'cases', json_build_object('type', 'FeatureCollection', 'features',
      (SELECT coalesce(json_agg(f ORDER BY id), '[]') FROM open_case)),
  'categories', (SELECT json_agg(json_build_object('code', code, 'label_zh', label_zh,
      'label_en', label_en, 'color', color, 'symbol', symbol) ORDER BY sort_order)
      FROM category WHERE kind = 'problem' AND NOT private_location)
)::text
FROM g
""").bindparams(
    bindparam("status_labels", type_=Text),
    bindparam("open", type_=ARRAY(Text)),
    bindparam("running", type_=ARRAY(Text)),
)


def patrol_map_layers(conn: Connection, grid_code: str) -> dict[str, Any]:
    """The layers of a grid's patrol map as GeoJSON dicts; NotFound for an unknown grid."""
    if area_level(grid_code, parameter="grid_code") != "grid":
        raise NotFound(
            f"{grid_code} 不是网格代码：网格代码为 15 位（村代码 + 3 位序号）。",
            f"{grid_code} is not a grid code: grid codes have 15 digits (village code + 3).",
            code=grid_code,
        )
    found = conn.execute(
        LAYERS_SQL,
        {
            "grid": grid_code,
            "status_labels": json.dumps(labels_zh(CASE_STATUSES), ensure_ascii=False),
            "open": list(OPEN_STATUSES),
            "running": list(RUNNING_STATUSES),
        },
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"网格 {grid_code} 不存在。", f"Grid {grid_code} does not exist.", code=grid_code)
    layers: dict[str, Any] = json.loads(found)
    return layers
