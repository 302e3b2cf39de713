"""Patrol records (巡查记录): a grid manager's walked track, judged by the rules, kept forever.

A patrol is valid (有效巡查) when it meets the rule of its level (``patrol_rule``, defaults from
river-chief practice: at least 30 minutes and 2 km, at least weekly) and two sanity checks: at
least half of the track lies in the grid (50 m tolerance) and the average speed is below 25 km/h
(faster means a car, not a patrol). Each reason it fails is kept as a code. The open cases the
track passed within their category's close-out radius (on the ellipsoid) are kept with it.
Everything is measured in PostGIS in the statement that stores the patrol.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import DateTime, Text

from gis.access import Principal
from gis.errors import Forbidden, NotAuthenticated, NotFound
from gis.lifecycle import OPEN_STATUSES
from gis.sqlgeom import wkb
from gis.tracks import Track

PATROL_ROLES: Final = ("grid_manager", "admin")
MAX_SPEED_MPS: Final = 25 / 3.6
INSIDE_TOLERANCE_M: Final = 50.0
REASONS: Final[dict[str, tuple[str, str]]] = {
    "too_short_time": ("巡查时长不足", "too short in time"),
    "too_short_distance": ("巡查里程不足", "too short in distance"),
    "outside_grid": ("轨迹大部分不在网格内", "mostly outside the grid"),
    "too_fast": ("平均速度过快（疑似乘车）", "too fast on average (a vehicle?)"),
}

RECORD = text("""
WITH t AS (SELECT ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) AS track),
g AS (SELECT code, county_code, geom FROM region WHERE code = :grid AND level = 'grid'),
r AS (SELECT min_minutes, min_km FROM patrol_rule WHERE level = 'grid'),
zone AS (SELECT ST_Buffer(g.geom::geography, :tolerance)::geometry AS z FROM g),
m AS (
  SELECT ST_Length(t.track::geography) AS length_m,
         extract(epoch FROM CAST(:ended AS timestamptz) - CAST(:started AS timestamptz)) AS duration_s,
         (SELECT coalesce(sum(ST_Length(ST_Intersection(d.geom, zone.z)::geography)), 0)
          FROM ST_DumpSegments(t.track) d, zone) AS inside_m  -- per segment: walking a lane twice counts twice
  FROM t, g
), passed AS (
  SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') AS ids
  FROM cases c JOIN category cat ON cat.code = c.category, t, g
  WHERE c.status = ANY (:open) AND (c.grid_code = g.code OR ST_Intersects(c.geom, g.geom))
    AND ST_DWithin(c.geom::geography, t.track::geography, cat.closeout_radius_m)
), why AS (
  SELECT array_remove(ARRAY[
    CASE WHEN m.duration_s < r.min_minutes * 60 THEN 'too_short_time' END,
    CASE WHEN m.length_m < r.min_km * 1000 THEN 'too_short_distance' END,
    CASE WHEN m.inside_m < 0.5 * m.length_m THEN 'outside_grid' END,
    CASE WHEN m.duration_s > 0 AND m.length_m / m.duration_s > :max_speed THEN 'too_fast' END], NULL) AS codes
  FROM m, r
)
INSERT INTO patrol (grid_code, county_code, user_id, started_at, ended_at, track, times, length_m, duration_s,
                    valid, invalid_reasons, passed_case_ids, source)
SELECT g.code, g.county_code, :user_id, :started, :ended, t.track, :times, m.length_m, m.duration_s,
       cardinality(why.codes) = 0, why.codes, passed.ids, :source
FROM t, g, m, why, passed
RETURNING id
""").bindparams(bindparam("open", type_=ARRAY(Text)), bindparam("times", type_=ARRAY(DateTime(timezone=True))))


def check_patrol_grid(p: Principal, grid_code: str) -> None:
    """Grid managers record patrols of their own grids; admins of grids in their areas."""
    if p.anonymous:
        raise NotAuthenticated("上传巡查记录须先登录。", "Sign in to record a patrol.")
    p.require(*PATROL_ROLES)
    if not any(grid_code.startswith(area) for area in p.areas):
        raise NotFound(
            f"网格 {grid_code} 不存在，或不在您的工作范围内。",
            f"Grid {grid_code} does not exist or is outside your scope.",
            grid_code=grid_code,
        )


def record_patrol(conn: Connection, p: Principal, grid_code: str, track: Track) -> int:
    """``POST /patrols``: store the patrol with its validity and passed cases; returns its id."""
    check_patrol_grid(p, grid_code)
    params: dict[str, Any] = {
        "wkb": wkb(track.line),
        "grid": grid_code,
        "user_id": p.user_id,
        "started": track.times[0],
        "ended": track.times[-1],
        "times": list(track.times),
        "tolerance": INSIDE_TOLERANCE_M,
        "open": list(OPEN_STATUSES),
        "max_speed": MAX_SPEED_MPS,
        "source": track.source,
    }
    found = conn.execute(RECORD, params).scalar_one_or_none()
    if found is None:
        raise NotFound(f"网格 {grid_code} 不存在。", f"Grid {grid_code} does not exist.", grid_code=grid_code)
    return int(found)


def require_staff(p: Principal, what_zh: str = "巡查记录", what_en: str = "patrol records") -> None:
    """Staff data (工作人员数据: patrol tracks, close-out positions): never public, not for contractors."""
    if p.anonymous:
        raise NotAuthenticated(f"{what_zh}须登录后查看。", f"Sign in to see {what_en}.")
    if p.role == "contractor":
        raise Forbidden(f"保洁公司账号不能查看{what_zh}。", f"Contractor accounts may not see {what_en}.")
