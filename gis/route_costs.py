"""Travel costs between patrol stops (路程矩阵): on the ellipsoid, or along the road network.

Straight-line costs are ellipsoidal distances (``ST_Distance`` on ``geography``). Network costs
snap every node (start, stops, end) onto its nearest road edge in the grid's county, cut those
edges at the snap points (``vm_route_edges()``, migration 0004) and run pgRouting's
``pgr_dijkstraCostMatrix`` on them: a leg is the walk to the road, the road, and the walk from
the road. Two stops at most ``DIRECT_M`` apart are walked to directly (一步之遥: going out to the
road and back would be absurd). Unreachable pairs fall back to the straight line.

Costs go to the solver in decimetres (integers); pgRouting's SQL arguments are constant strings
that read the request from the transaction-local setting ``villagemap.route``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Float

SCALE = 10  # matrix units per metre (decimetres)
DIRECT_M = 150.0
VIRTUAL_BASE = 1_000_000_000_000  # ids of snap vertices: never a road_vertex id
EDGES_SQL = "SELECT id, source, target, cost, reverse_cost FROM vm_route_edges()"
PAIRS_SQL = (
    "SELECT (x ->> 0)::bigint AS source, (x ->> 1)::bigint AS target "
    "FROM jsonb_array_elements(current_setting('villagemap.route')::jsonb -> 'pairs') x"
)
Matrix = NDArray[np.int64]
Box = tuple[float, float, float, float]

_ARRAYS = {"lon": ARRAY(Float), "lat": ARRAY(Float)}

STRAIGHT = text("""
WITH p AS (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326)::geography AS g
           FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS u(x, y, i))
SELECT a.i - 1, b.i - 1, ST_Distance(a.g, b.g) FROM p a JOIN p b ON a.i < b.i
""").bindparams(*(bindparam(k, type_=v) for k, v in _ARRAYS.items()))

SNAP = text("""
WITH p AS (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS g
           FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS u(x, y, i))
SELECT p.i - 1, e.id, ST_LineLocatePoint(e.geom, p.g), ST_Distance(e.geom::geography, p.g::geography),
       ST_X(ST_ClosestPoint(e.geom, p.g)), ST_Y(ST_ClosestPoint(e.geom, p.g))
FROM p CROSS JOIN LATERAL (
  SELECT k.id, k.geom FROM (
    SELECT id, geom FROM road_edge
    WHERE county_code = :county AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)
    ORDER BY geom <-> p.g LIMIT 5) k
  ORDER BY ST_Distance(k.geom::geography, p.g::geography), k.id LIMIT 1) e
ORDER BY p.i
""").bindparams(*(bindparam(k, type_=v) for k, v in _ARRAYS.items()))

SET_REQUEST = text("SELECT set_config('villagemap.route', :request, true)")

NETWORK = text("""
SELECT start_vid, end_vid, agg_cost
FROM pgr_dijkstraCostMatrix(CAST(:edges AS text), CAST(:vids AS bigint[]), directed => false)
""").bindparams(bindparam("vids", type_=ARRAY(BigInteger)))


@dataclass(frozen=True)
class Snap:
    """Where a node meets the road network (上路点): edge, fraction along it, off-road metres."""

    vid: int
    edge: int
    fraction: float
    access_m: float
    lon: float
    lat: float


@dataclass(frozen=True)
class Costs:
    """The solver's matrix (decimetres), metres per leg, and how each leg is travelled."""

    matrix: Matrix
    metres: NDArray[np.float64]
    on_road: NDArray[np.bool_]
    snaps: tuple[Snap, ...] = ()


def straight_metres(conn: Connection, points: Sequence[tuple[float, float]]) -> NDArray[np.float64]:
    """Ellipsoidal distances (椭球面距离) between all points, metres, symmetric."""
    n = len(points)
    out = np.zeros((n, n))
    rows = conn.execute(STRAIGHT, {"lon": [p[0] for p in points], "lat": [p[1] for p in points]}).all()
    for i, j, d in rows:
        out[i, j] = out[j, i] = float(d)
    return out


def straight_costs(conn: Connection, points: Sequence[tuple[float, float]]) -> Costs:
    """Costs as the crow flies on the ellipsoid (直线距离)."""
    metres = straight_metres(conn, points)
    return Costs(_scaled(metres), metres, np.zeros(metres.shape, dtype=bool))


def network_costs(conn: Connection, points: Sequence[tuple[float, float]], county: str, box: Box) -> Costs:
    """Costs along the road network (路网距离), with direct hops for stops close together."""
    snaps = snap_points(conn, points, county, box)
    set_request(conn, county, box, snaps, pairs=[])
    road = _road_metres(conn, snaps)
    straight = straight_metres(conn, points)
    on_road = np.isfinite(road) & (straight > DIRECT_M)
    metres = np.where(on_road, road, straight)
    metres = (metres + metres.T) / 2  # undirected: the same both ways, to the last bit
    np.fill_diagonal(metres, 0.0)
    return Costs(_scaled(metres), metres, on_road, tuple(snaps))


def snap_points(conn: Connection, points: Sequence[tuple[float, float]], county: str, box: Box) -> list[Snap]:
    """Each point's nearest road edge in the county and box (ellipsoidal distance)."""
    w, s, e, n = box
    params = {"lon": [p[0] for p in points], "lat": [p[1] for p in points], "county": county}
    rows = conn.execute(SNAP, params | {"w": w, "s": s, "e": e, "n": n}).all()
    if len(rows) != len(points):
        raise LookupError("some points found no road edge in the box")
    return [Snap(VIRTUAL_BASE + int(i) + 1, int(edge), float(f), float(d), float(x), float(y))
            for i, edge, f, d, x, y in rows]  # fmt: skip


def set_request(conn: Connection, county: str, box: Box, snaps: Sequence[Snap], pairs: list[list[int]]) -> None:
    """Hand the snapped edges (and the legs to draw) to ``vm_route_edges()`` for this transaction."""
    request = {
        "county": county,
        "box": list(box),
        "snaps": [{"node": s.vid, "edge": s.edge, "f": s.fraction} for s in snaps],
        "pairs": pairs,
    }
    conn.execute(SET_REQUEST, {"request": json.dumps(request)})


def _road_metres(conn: Connection, snaps: Sequence[Snap]) -> NDArray[np.float64]:
    n = len(snaps)
    index = {s.vid: i for i, s in enumerate(snaps)}
    road = np.full((n, n), np.inf)
    np.fill_diagonal(road, 0.0)
    rows = conn.execute(NETWORK, {"edges": EDGES_SQL, "vids": list(index)}).all()
    access = np.array([s.access_m for s in snaps])
    for a, b, cost in rows:
        i, j = index[int(a)], index[int(b)]
        road[i, j] = access[i] + float(cost) + access[j]
    return road


def _scaled(metres: NDArray[np.float64]) -> Matrix:
    scaled: Matrix = np.rint(metres * SCALE).astype(np.int64)
    return scaled
