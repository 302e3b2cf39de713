"""Planning a patrol route (路线规划): costs, order, access points, legs and the GeoJSON.

Called by :func:`gis.patrol_route.patrol_route` with the grid's place and the stops already
chosen. "Overdue first" is a precedence constraint solved exactly as a penalty: every arc that
would visit a not-overdue stop before an overdue one costs more than any whole tour, so the
optimum under the penalised costs is the best tour that visits all overdue cases first.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Float

from gis.lifecycle import OPEN_STATUSES
from gis.route_costs import Costs, Snap, network_costs, set_request, straight_costs
from gis.route_geojson import Leg, StopRow, route_collection
from gis.routing import Matrix, Tour, solve_tour

Point = tuple[float, float]
#: Travel speeds (行进速度), m/s: walking ≈ 4.3 km/h, an electric bike in a village ≈ 15 km/h.
SPEEDS_MPS: Final = {"walk": 1.2, "ride": 4.2}
MAX_STOPS: Final = 200
DEFAULT_STOPS: Final = 50


@dataclass(frozen=True)
class RouteRequest:
    """What the patrol route is asked for (路线参数); points are WGS84 [lon, lat]."""

    grid_code: str
    start: Point | None = None
    end: Point | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = OPEN_STATUSES
    overdue_first: bool = False
    max_stops: int = DEFAULT_STOPS
    mode: str = "walk"
    costs: str = "auto"
    time_limit_s: float = 1.0


@dataclass(frozen=True)
class Place:
    """Where the patrol happens (巡查范围): grid, county, start, end, search box, network or not."""

    grid: str
    county: str
    start: Point
    end: Point
    box: tuple[float, float, float, float]
    network: bool


@dataclass(frozen=True)
class Stop:
    """A case to visit (巡查点) at its access point; ``point`` is False for lines and polygons."""

    case_id: int
    lon: float
    lat: float
    overdue: bool
    point: bool


REFINE = text("""
SELECT c.id, ST_X(a.p), ST_Y(a.p)
FROM unnest(CAST(:ids AS bigint[]), CAST(:px AS float8[]), CAST(:py AS float8[]), CAST(:nx AS float8[]),
            CAST(:ny AS float8[])) AS u(id, px, py, nx, ny)
JOIN cases c ON c.id = u.id
CROSS JOIN LATERAL (SELECT ST_ClosestPoint(c.geom, ST_MakeLine(ST_SetSRID(ST_MakePoint(u.px, u.py), 4326),
                                                           ST_SetSRID(ST_MakePoint(u.nx, u.ny), 4326))) AS p) a
""").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)), *(bindparam(k, type_=ARRAY(Float)) for k in ("px", "py", "nx", "ny"))
)


def plan_route(conn: Connection, q: RouteRequest, place: Place, stops: list[Stop], *, skipped: int) -> str:
    """Solve and draw the route; an empty route (with a message) when there is nothing to visit."""
    if not stops:
        meta = _meta(q, place, 0.0, None, stops, skipped)
        return route_collection(conn, [], [], meta, network=False)
    closed = place.end == place.start
    budget = q.time_limit_s / (2 if not place.network and not all(s.point for s in stops) else 1)
    costs, tour = _solve(conn, q, place, stops, closed, budget)
    if not place.network and not all(s.point for s in stops):
        refined = _refine(conn, stops, place, tour, closed)
        costs2, tour2 = _solve(conn, q, place, refined, closed, budget)
        if _metres(costs2, tour2, closed) < _metres(costs, tour, closed):
            stops, costs, tour = refined, costs2, tour2
    return _draw(conn, q, place, stops, costs, tour, closed, skipped)


def _nodes(place: Place, stops: Sequence[Stop], closed: bool) -> list[Point]:
    inner = [(s.lon, s.lat) for s in stops]
    return [place.start, *inner] if closed else [place.start, *inner, place.end]


def _solve(
    conn: Connection, q: RouteRequest, place: Place, stops: list[Stop], closed: bool, seconds: float
) -> tuple[Costs, Tour]:
    points = _nodes(place, stops, closed)
    costs = network_costs(conn, points, place.county, place.box) if place.network else straight_costs(conn, points)
    end = 0 if closed else len(points) - 1
    matrix = _overdue_first(costs.matrix, stops, end) if q.overdue_first else costs.matrix
    return costs, solve_tour(matrix, start=0, end=end, time_limit_s=seconds)


def _overdue_first(matrix: Matrix, stops: Sequence[Stop], end: int) -> Matrix:
    """Penalise every arc that breaks "all overdue stops before the others" (先逾期后其他)."""
    late = [i + 1 for i, s in enumerate(stops) if s.overdue]
    other = [i + 1 for i, s in enumerate(stops) if not s.overdue]
    if not late or not other:
        return matrix
    big = int(matrix.max() + 1) * (matrix.shape[0] + 1)
    penalised = matrix.copy()
    penalised[np.ix_(other, late)] += big
    penalised[0, other] += big
    penalised[late, end] += big
    return penalised


def _metres(costs: Costs, tour: Tour, closed: bool) -> float:
    last = 0 if closed else costs.metres.shape[0] - 1
    path = [0, *tour.order, last]
    return float(sum(costs.metres[a, b] for a, b in itertools.pairwise(path)))


def _refine(conn: Connection, stops: list[Stop], place: Place, tour: Tour, closed: bool) -> list[Stop]:
    """Move each line/polygon access point to its nearest point to the legs around it (就近进入)."""
    points = _nodes(place, stops, closed)
    path = [0, *tour.order, 0 if closed else len(points) - 1]
    params: dict[str, list[Any]] = {key: [] for key in ("ids", "px", "py", "nx", "ny")}
    for k in range(1, len(path) - 1):
        stop = stops[path[k] - 1]
        if stop.point:
            continue
        (px, py), (nx, ny) = points[path[k - 1]], points[path[k + 1]]
        for key, value in zip(params, (stop.case_id, px, py, nx, ny), strict=True):
            params[key].append(value)
    moved = {int(r[0]): (float(r[1]), float(r[2])) for r in conn.execute(REFINE, params)}
    return [replace(s, lon=moved[s.case_id][0], lat=moved[s.case_id][1]) if s.case_id in moved else s for s in stops]


def _draw(
    conn: Connection, q: RouteRequest, place: Place, stops: list[Stop], costs: Costs, tour: Tour, closed: bool,
    skipped: int,
) -> str:  # fmt: skip
    points = _nodes(place, stops, closed)
    path = [0, *tour.order, 0 if closed else len(points) - 1]
    rows: list[StopRow] = []
    legs: list[Leg] = []
    total = 0.0
    for k, (a, b) in enumerate(itertools.pairwise(path)):
        metres, on_road = float(costs.metres[a, b]), bool(costs.on_road[a, b])
        total += metres
        legs.append(_leg(points, costs.snaps, a, b, on_road))
        if k < len(path) - 2:  # every leg but the last arrives at a stop
            s = stops[b - 1]
            rows.append(StopRow(s.case_id, s.lon, s.lat, metres, total, on_road))
    if costs.snaps:
        pairs = [[leg.vid_a, leg.vid_b] for leg in legs if leg.on_road]
        set_request(conn, place.county, place.box, costs.snaps, pairs)
    meta = _meta(q, place, total, tour, stops, skipped)
    return route_collection(conn, rows, legs, meta, network=bool(costs.snaps))


def _leg(points: list[Point], snaps: Sequence[Snap], a: int, b: int, on_road: bool) -> Leg:
    if not snaps:
        return Leg(points[a], points[b], points[a], points[b], 0, 0, False)
    sa, sb = snaps[a], snaps[b]
    return Leg(points[a], points[b], (sa.lon, sa.lat), (sb.lon, sb.lat), sa.vid, sb.vid, on_road)


def _meta(
    q: RouteRequest, place: Place, total: float, tour: Tour | None, stops: list[Stop], skipped: int
) -> dict[str, Any]:
    speed = SPEEDS_MPS[q.mode]
    meta: dict[str, Any] = {
        "grid_code": place.grid,
        "total_m": round(total, 1),
        "duration_s": round(total / speed),
        "network": place.network and bool(stops),
        "mode": q.mode,
        "speed_mps": speed,
        "start": {"type": "Point", "coordinates": [round(place.start[0], 7), round(place.start[1], 7)]},
        "end": {"type": "Point", "coordinates": [round(place.end[0], 7), round(place.end[1], 7)]},
        "stops": len(stops),
        "skipped": max(0, skipped),
        "overdue_first": q.overdue_first,
    }
    if tour is not None:
        meta["solver"] = {"method": tour.method, "optimal": tour.optimal, "seconds": round(tour.seconds, 3)}
    if not stops:
        meta["message"] = "该网格没有符合条件的待办问题，无需巡查路线。"
        meta["message_en"] = "No open cases match in this grid: there is no route to plan."
    return meta
