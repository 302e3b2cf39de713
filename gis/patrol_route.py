"""A grid's patrol route (网格巡查路线): which open cases, where to stand, in which order.

1. The grid, its default start (the village committee, else a point inside the grid) and a box
   around it; a start or end outside the county is refused with the distance.
2. The stops: open cases of the grid (and those crossing it) in the caller's view — categories
   with a private location only within the caller's scope — the most urgent first when there are
   more than ``max_stops``. Each is visited at an access point: the case itself for a point, else
   the nearest point of the line or polygon (to the road network when routing on it, to the start
   otherwise, then to the legs around it once the order is known).
3. The costs (:mod:`gis.route_costs`): ellipsoidal, or along the road network when one is loaded
   for the area; the order (:mod:`gis.routing`); the GeoJSON (:mod:`gis.route_geojson`).
"""

from __future__ import annotations

import math
from typing import Any, Final

from sqlalchemy import Connection, and_, case, func, literal, not_, or_, select, text

from gis import tables as t
from gis import tables_field as tf
from gis.access import Principal, case_scope
from gis.cases import local_today
from gis.checks import unknown_categories
from gis.crs import parse_crs, to_wgs84
from gis.errors import InvalidField, InvalidParameter, NotFound, unknown
from gis.filters import area_level
from gis.layers import check_states
from gis.lifecycle import CASE_STATUSES, RUNNING_STATUSES
from gis.route_plan import MAX_STOPS, Place, RouteRequest, Stop, plan_route

__all__ = ["MAX_STOPS", "RouteRequest", "parse_lonlat", "patrol_route"]

BOX_MARGIN_DEG: Final = 0.03  # ~3 km: roads may leave the grid and come back


PLACE = text("""
SELECT g.county_code, cty.name, ST_X(d.p), ST_Y(d.p),
       ST_XMin(b.box), ST_YMin(b.box), ST_XMax(b.box), ST_YMax(b.box),
       EXISTS (SELECT 1 FROM road_edge e WHERE e.county_code = g.county_code AND e.geom && b.box),
       ST_Distance(cty.geom::geography, ST_SetSRID(ST_MakePoint(:sx, :sy), 4326)::geography),
       ST_Distance(cty.geom::geography, ST_SetSRID(ST_MakePoint(:ex, :ey), 4326)::geography)
FROM region g
JOIN region v ON v.code = g.parent_code
JOIN region cty ON cty.code = g.county_code
CROSS JOIN LATERAL (SELECT coalesce(v.seat, ST_PointOnSurface(g.geom)) AS p) d
CROSS JOIN LATERAL (SELECT ST_Expand(ST_Envelope(ST_Collect(ARRAY[g.geom, d.p,
    ST_SetSRID(ST_MakePoint(coalesce(:sx, ST_X(d.p)), coalesce(:sy, ST_Y(d.p))), 4326),
    ST_SetSRID(ST_MakePoint(coalesce(:ex, ST_X(d.p)), coalesce(:ey, ST_Y(d.p))), 4326)])), :margin) AS box) b
WHERE g.code = :grid AND g.level = 'grid'
""")


def parse_lonlat(parameter: str, raw: str | None, crs: str | None = None) -> tuple[float, float] | None:
    """``lon,lat`` in the declared datum (WGS84 by default, GCJ-02/BD-09 from phones) → WGS84.

    An unknown ``crs`` is refused even without a point: a typo never passes silently.
    """
    datum = parse_crs(crs)
    if raw is None or not raw.strip():
        return None
    parts = [part.strip() for part in raw.split(",")]
    try:
        lon, lat = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lon = lat = math.nan
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        raise InvalidParameter(
            parameter,
            f"参数 {parameter}“{raw}”无效：格式为 经度,纬度（如 106.63,38.87），经度 ±180、纬度 ±90 以内。",
            f"{parameter} '{raw}' is invalid: use lon,lat (e.g. 106.63,38.87) within ±180 and ±90.",
            value=raw,
        )
    return to_wgs84(lon, lat, datum)


def patrol_route(conn: Connection, p: Principal, q: RouteRequest) -> str:
    """``GET /grids/{grid_code}/patrol-route``: the route as a GeoJSON FeatureCollection text."""
    _check_request(q)
    _check_categories(conn, q.categories)
    place = _place(conn, q)
    stops, total = _stops(conn, p, q, place)
    return plan_route(conn, q, place, stops, skipped=total - len(stops))


def _check_request(q: RouteRequest) -> None:
    if area_level(q.grid_code, parameter="grid_code") != "grid":
        raise NotFound(
            f"{q.grid_code} 不是网格代码：网格代码为 15 位（村代码 + 3 位序号）。",
            f"{q.grid_code} is not a grid code: grid codes have 15 digits (village code + 3).",
            code=q.grid_code,
        )
    check_states("status", q.statuses, CASE_STATUSES)


def _check_categories(conn: Connection, categories: tuple[str, ...]) -> None:
    bad = conn.execute(select(unknown_categories(categories, "problem"))).scalar_one() if categories else None
    if bad:
        raise unknown("category", ",".join(bad), "类别", "category")


def _place(conn: Connection, q: RouteRequest) -> Place:
    sx, sy = q.start if q.start else (None, None)
    ex, ey = q.end if q.end else (None, None)
    params = {"grid": q.grid_code, "sx": sx, "sy": sy, "ex": ex, "ey": ey, "margin": BOX_MARGIN_DEG}
    row = conn.execute(PLACE, params).one_or_none()
    if row is None:
        raise NotFound(f"网格 {q.grid_code} 不存在。", f"Grid {q.grid_code} does not exist.", code=q.grid_code)
    county, county_name, dx, dy, w, s, e, n, has_network, start_off, end_off = row
    for name, off in (("start", start_off), ("end", end_off)):
        if off is not None and float(off) > 0:
            _outside(name, county_name, float(off))
    start = q.start or (float(dx), float(dy))
    return Place(q.grid_code, str(county), start, q.end or start, (float(w), float(s), float(e), float(n)),
                 _use_network(q.costs, bool(has_network)))  # fmt: skip


def _outside(name: str, county: str, metres: float) -> None:
    what = "起点" if name == "start" else "终点"
    shown = f"{metres / 1000:.1f} 千米" if metres >= 1000 else f"{metres:.0f} 米"
    shown_en = f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"
    raise InvalidField(
        name,
        f"{what}在{county}以外，距县界 {shown}：请给出{county}境内的经纬度（经度,纬度，WGS84）。",
        f"The {name} point lies outside {county}, {shown_en} from its boundary: give lon,lat (WGS84) inside it.",
        distance_m=round(metres, 1),
    )


def _use_network(costs: str, loaded: bool) -> bool:
    if costs == "network" and not loaded:
        raise InvalidField(
            "costs",
            "该区域没有载入路网，无法按路网计算；请改用 costs=straight 或 auto。",
            "No road network is loaded for this area; use costs=straight or auto.",
        )
    return loaded and costs in ("auto", "network")


def _stops(conn: Connection, p: Principal, q: RouteRequest, place: Place) -> tuple[list[Stop], int]:
    """The cases to visit, most urgent first, at most ``max_stops``; and how many there were."""
    c, cat = t.cases.alias("c"), t.category.alias("cat")
    grid_geom = select(t.region.c.geom).where(t.region.c.code == q.grid_code).scalar_subquery()
    start = func.ST_SetSRID(func.ST_MakePoint(*place.start), 4326)
    anchor: Any = start
    if place.network:
        e = tf.road_edge.alias("e")
        nearest = select(e.c.geom).where(e.c.county_code == place.county)
        anchor = nearest.order_by(e.c.geom.op("<->")(c.c.geom), e.c.id).limit(1).scalar_subquery()
    point = func.GeometryType(c.c.geom) == "POINT"
    access = case((point, c.c.geom), else_=func.ST_ClosestPoint(c.c.geom, anchor))
    overdue = func.coalesce(and_(c.c.deadline < local_today(), c.c.status.in_(RUNNING_STATUSES)), False)
    in_grid = or_(c.c.grid_code == q.grid_code, func.ST_Intersects(c.c.geom, grid_geom))
    stmt = (
        select(c.c.id, func.ST_X(access), func.ST_Y(access), overdue, point, func.count().over())
        .join(cat, cat.c.code == c.c.category)
        .where(in_grid, c.c.status.in_(q.statuses), or_(not_(cat.c.private_location), case_scope(p, c)))
        .where(c.c.category.in_(q.categories) if q.categories else literal(True))
        .order_by(overdue.desc(), c.c.deadline.asc().nulls_last(), c.c.id)
        .limit(max(1, min(q.max_stops, MAX_STOPS)))
    )
    rows = conn.execute(stmt).all()
    stops = [Stop(int(r[0]), float(r[1]), float(r[2]), bool(r[3]), bool(r[4])) for r in rows]
    return stops, int(rows[0][5]) if rows else 0
