"""The patrol route as GeoJSON (巡查路线 GeoJSON), built in one PostGIS statement (DESIGN §9).

One Point feature per stop in visiting order — at its access point, with ``seq``, ``case_id``,
``code``, ``category``, ``leg_m``, ``cum_m`` and what a map needs (labels, status, deadline,
overdue) — and one LineString feature with ``"kind": "route"``: straight legs, or the road legs
drawn along the edges pgRouting's ``pgr_dijkstra`` walks. Foreign members (``total_m``,
``duration_s``, ``network`` …) come from the caller as one JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Boolean, Float

from gis.lifecycle import CASE_STATUSES, RUNNING_STATUSES, labels_zh
from gis.route_costs import EDGES_SQL, PAIRS_SQL

_FLOATS = ("xs", "ys", "legs", "cums", "ax", "ay", "bx", "by", "sax", "say", "sbx", "sby")
_TYPES: dict[str, Any] = {name: ARRAY(Float) for name in _FLOATS} | {
    "case_ids": ARRAY(BigInteger),
    "roads": ARRAY(Boolean),
    "va": ARRAY(BigInteger),
    "vb": ARRAY(BigInteger),
    "on_road": ARRAY(Boolean),
}

ROUTE = text("""
WITH stop AS (
  SELECT s.seq, s.case_id, ST_SetSRID(ST_MakePoint(s.x, s.y), 4326) AS g, s.leg_m, s.cum_m, s.on_road
  FROM unnest(CAST(:case_ids AS bigint[]), CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:legs AS float8[]),
              CAST(:cums AS float8[]), CAST(:roads AS boolean[]))
       WITH ORDINALITY AS s(case_id, x, y, leg_m, cum_m, on_road, seq)
), leg AS (
  SELECT l.k, ST_SetSRID(ST_MakePoint(l.ax, l.ay), 4326) AS a, ST_SetSRID(ST_MakePoint(l.bx, l.by), 4326) AS b,
         ST_SetSRID(ST_MakePoint(l.sax, l.say), 4326) AS sa, ST_SetSRID(ST_MakePoint(l.sbx, l.sby), 4326) AS sb,
         l.va, l.vb, l.on_road
  FROM unnest(CAST(:ax AS float8[]), CAST(:ay AS float8[]), CAST(:bx AS float8[]), CAST(:by AS float8[]),
              CAST(:sax AS float8[]), CAST(:say AS float8[]), CAST(:sbx AS float8[]), CAST(:sby AS float8[]),
              CAST(:va AS bigint[]), CAST(:vb AS bigint[]), CAST(:on_road AS boolean[]))
       WITH ORDINALITY AS l(ax, ay, bx, by, sax, say, sbx, sby, va, vb, on_road, k)
), hop AS (
  SELECT d.start_vid, d.end_vid, d.path_seq,
         CASE WHEN d.node = re.source THEN re.geom ELSE ST_Reverse(re.geom) END AS g
  FROM pgr_dijkstra(CAST(:edges AS text), CAST(:pairs AS text), false) d
  JOIN vm_route_edges() re ON re.id = d.edge
  WHERE CAST(:network AS boolean) AND GeometryType(re.geom) = 'LINESTRING'
), road AS (
  SELECT start_vid, end_vid, ST_MakeLine(g ORDER BY path_seq) AS g FROM hop GROUP BY start_vid, end_vid
), drawn AS (
  SELECT leg.k, CASE WHEN leg.on_road
                     THEN ST_MakeLine(array_remove(ARRAY[leg.a, leg.sa, road.g, leg.sb, leg.b], NULL))
                     ELSE ST_MakeLine(leg.a, leg.b) END AS g
  FROM leg LEFT JOIN road ON leg.on_road AND road.start_vid = leg.va AND road.end_vid = leg.vb
), route AS (
  SELECT ST_RemoveRepeatedPoints(ST_MakeLine(g ORDER BY k)) AS g FROM drawn
), stop_feature AS (
  SELECT stop.seq, jsonb_build_object(
    'type', 'Feature', 'id', stop.case_id,
    'geometry', ST_AsGeoJSON(stop.g, 7)::jsonb,
    'properties', jsonb_build_object(
      'seq', stop.seq, 'case_id', c.id, 'code', c.code, 'category', c.category,
      'category_label', cat.label_zh, 'category_label_en', cat.label_en,
      'status', c.status, 'status_label', CAST(:status_labels AS jsonb) ->> c.status,
      'title', c.title, 'deadline', c.deadline,
      'overdue', coalesce(c.deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date
                          AND c.status = ANY (CAST(:running_codes AS text[])), false),
      'leg_m', round(stop.leg_m::numeric, 1), 'cum_m', round(stop.cum_m::numeric, 1),
      'leg_on_road', stop.on_road,
      'case_geometry_type', ST_GeometryType(c.geom),
      'access', CASE WHEN GeometryType(c.geom) = 'POINT' THEN 'point' ELSE 'nearest_point' END,
      'access_offset_m', round(ST_Distance(c.geom::geography, stop.g::geography)::numeric, 1))) AS f
  FROM stop JOIN cases c ON c.id = stop.case_id JOIN category cat ON cat.code = c.category
), features AS (
  SELECT coalesce(jsonb_agg(f ORDER BY seq), '[]'::jsonb) AS stops FROM stop_feature
)
SELECT (CAST(:meta AS jsonb) || jsonb_build_object('type', 'FeatureCollection', 'features',
  CASE WHEN (SELECT count(*) FROM stop) = 0 THEN '[]'::jsonb
       ELSE features.stops || jsonb_build_array(jsonb_build_object(
         'type', 'Feature', 'id', 'route',
         'geometry', (SELECT ST_AsGeoJSON(g, 7)::jsonb FROM route),
         'properties', jsonb_build_object('kind', 'route', 'total_m', CAST(:meta AS jsonb) -> 'total_m')))
  END))::text
FROM features
""").bindparams(*(bindparam(name, type_=kind) for name, kind in _TYPES.items()))


@dataclass(frozen=True)
class Leg:
    """One leg to draw (一段路): from a to b, via the road between their snap points or direct."""

    a: tuple[float, float]
    b: tuple[float, float]
    snap_a: tuple[float, float]
    snap_b: tuple[float, float]
    vid_a: int
    vid_b: int
    on_road: bool


@dataclass(frozen=True)
class StopRow:
    """A stop in visiting order: the case, its access point, the leg to it and the running total."""

    case_id: int
    lon: float
    lat: float
    leg_m: float
    cum_m: float
    on_road: bool


def route_collection(
    conn: Connection, stops: Sequence[StopRow], legs: Sequence[Leg], meta: dict[str, Any], *, network: bool
) -> str:
    """The route FeatureCollection text; ``meta`` becomes its foreign members."""
    params: dict[str, Any] = {
        "case_ids": [s.case_id for s in stops],
        "xs": [s.lon for s in stops],
        "ys": [s.lat for s in stops],
        "legs": [s.leg_m for s in stops],
        "cums": [s.cum_m for s in stops],
        "roads": [s.on_road for s in stops],
        "ax": [leg.a[0] for leg in legs],
        "ay": [leg.a[1] for leg in legs],
        "bx": [leg.b[0] for leg in legs],
        "by": [leg.b[1] for leg in legs],
        "sax": [leg.snap_a[0] for leg in legs],
        "say": [leg.snap_a[1] for leg in legs],
        "sbx": [leg.snap_b[0] for leg in legs],
        "sby": [leg.snap_b[1] for leg in legs],
        "va": [leg.vid_a for leg in legs],
        "vb": [leg.vid_b for leg in legs],
        "on_road": [leg.on_road for leg in legs],
        "edges": EDGES_SQL,
        "pairs": PAIRS_SQL,
        "network": network,
        "status_labels": json.dumps(labels_zh(CASE_STATUSES), ensure_ascii=False),
        "running_codes": list(RUNNING_STATUSES),
        "meta": json.dumps(meta, ensure_ascii=False),
    }
    return str(conn.execute(ROUTE, params).scalar_one())
