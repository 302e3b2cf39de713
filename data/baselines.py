"""Schematic base-map lines (底图线): 道路 roads, 巷道 lanes, 渠 canals, 沟 ditches and 河 rivers.

Only 黄河 (Natural Earth 1:50m centre line, clipped per county) is real. Every other line is
synthetic (``synthetic=True``) and drawn from the seats of :func:`data.regions.build_regions`, so
names line up with places: 秦渠 passes 金积镇, 上桥镇 and 东塔寺乡, 苦水河 runs through 新华桥村's
seat into the Yellow River, 清水沟 and 双吉沟 pass a few hundred metres from their villages.
Named lines follow anchor points (a region seat plus an offset in metres) with a few seeded
wiggles between anchors; the anchors themselves are kept exactly.

The routable network (kind ``road`` and ``lane``) is connected per county through shared
endpoints: inter-village roads join village seats (Gabriel-graph edges shorter than 6 km plus a
minimum spanning tree, using only edges that stay inside the county), and each village's lanes
join its seat to every grid seat. Where a straight line would leave the county (Litong's
太阳山 lobe hangs on by a neck), the road or lane is routed through grid seats and detour points
along the county edge instead. S301 and 城滨路 start at seats; 沿黄路 meets the network only
where it crosses roads, so node the network (e.g. ``pgr_nodeNetwork``) before routing on it.
Lines are clipped to their county; those already inside are kept untouched, so shared endpoints
stay bit-identical.
"""

from __future__ import annotations

import heapq
import itertools
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.prepared import PreparedGeometry, prep

from data.sources import (
    RIVER_SOURCE,
    Coords,
    LocalFrame,
    delaunay_edges,
    edge_length,
    polygons,
    read_yellow_river,
    spanning_tree,
    to_frame,
)

SEED = 20211215
MAX_ROAD_M = 6000.0
WAYPOINT_INSET_M = 150.0
WAYPOINT_STEP_M = 400.0
STEP_M = 1500.0
WIGGLE_M = {"road": 60.0, "canal": 80.0, "ditch": 120.0, "river": 220.0}
RIVER = "黄河"
SCHEMATIC_SOURCE = "synthetic: schematic line through generated seats (VillageMap sample)"
ROAD_SOURCE = "synthetic: Gabriel graph + spanning tree of village seats (VillageMap sample)"
LANE_SOURCE = "synthetic: village seat to grid seats (VillageMap sample)"
Anchor = tuple[str, float, float]


@dataclass(frozen=True)
class Spec:
    """A named schematic line: anchors are (region code or 黄河, metres east, metres north)."""

    kind: str
    name: str
    name_en: str | None
    county_code: str
    anchors: tuple[Anchor, ...]


PINGLUO, LITONG = "640221", "640302"
SPECS = (
    Spec("road", "S301 平陶公路", "S301 Pingluo–Taole Road", PINGLUO,
         (("640221100", 0, 0), ("640221202", 0, 0), ("640221106", 0, 0))),
    Spec("road", "城滨路", "Chengbin Road", PINGLUO,
         (("640221100", 0, 0), ("640221100", 2000, -700), ("640221100", 4500, -1100))),
    Spec("ditch", "第三排水沟", "Drain No. 3", PINGLUO,
         (("640221104", 1500, -4000), ("640221100", 2500, 0), ("640221200", -1500, 0),
          ("640221101", -1500, 6000))),
    Spec("ditch", "第五排水沟", "Drain No. 5", PINGLUO,
         (("640221203", 2000, -2000), ("640221202", -2000, 1500), ("640221103", -1500, 0),
          ("640221201", -2500, 1500), (RIVER, 0, 0))),
    Spec("canal", "秦渠", "Qin Canal", LITONG,
         (("640302100", -5000, -3500), ("640302100", 0, 600), ("640302104", 0, 500),
          ("640302200", 0, -600), ("640302203", 1500, 1200), ("640302203", 6000, 3500))),
    Spec("canal", "汉渠", "Han Canal", LITONG,
         (("640302102", -5000, -3000), ("640302102", 0, 500), ("640302202", 600, -600),
          ("640302101", 0, 700), ("640302101", 5000, 3000))),
    Spec("canal", "东干渠", "Dong Main Canal", LITONG,
         (("640302103", -7000, -6000), ("640302103", 1500, 0), ("640302101", -500, -4500),
          ("640302203", 7000, -2000), ("640302203", 10000, 4000))),
    Spec("river", "苦水河", "Kushui River", LITONG,
         (("640302401", -3000, -9000), ("640302401", -2500, -3500), ("640302401", 1500, 1500),
          ("640302103", 3500, 1500), ("640302101", -2500, -1000), ("640302105210", 0, 0), (RIVER, 0, 0))),
    Spec("ditch", "清水沟", "Qingshui Drain", LITONG,
         (("640302203205", 100, -3000), ("640302203205", 200, 0), ("640302203205", -300, 4000))),
    Spec("ditch", "双吉沟", "Shuangji Gully", LITONG,
         (("640302103203", 5000, -2000), ("640302103203", 0, 250), ("640302103203", -3000, 1500))),
    Spec("ditch", "头道沟", "Toudao Gully", LITONG,
         (("640302103", -9000, -4000), ("640302103", -6000, 0), ("640302103", -4000, 3000))),
)  # fmt: skip


@dataclass(frozen=True)
class Line:
    """One row of the base-line frame (底图线表)."""

    kind: str
    name: str
    name_en: str | None
    geom: MultiLineString
    county_code: str | None
    synthetic: bool
    source: str


def build_base_lines(regions: gpd.GeoDataFrame, sources: Path, seed: int = SEED) -> gpd.GeoDataFrame:
    """底图线 黄河, the named roads, canals, ditches and rivers, and the village road/lane network.

    ``regions`` is the frame of :func:`data.regions.build_regions`. Returns one row per line with
    the columns of :class:`Line`, the MultiLineString column ``geom`` active, crs EPSG:4326.
    """
    river = read_yellow_river(sources)
    seats: dict[str, Point] = dict(zip(regions["code"], regions["seat"], strict=True))
    counties = regions[regions["level"] == "county"].sort_values("code")
    rows: list[Line] = []
    for code, outline in zip(counties["code"], counties.geometry, strict=True):
        frame = LocalFrame.of(outline)
        water = clip(river, outline)
        if not water.is_empty:
            rows.append(Line("river", RIVER, "Yellow River", water, code, False, RIVER_SOURCE))
        if code == PINGLUO:
            rows.append(_riverside(river, outline, frame))
        for spec in (s for s in SPECS if s.county_code == code):
            rows.append(_schematic(spec, outline, frame, seats, water, seed))
        rows.extend(_network(regions, code, outline, frame))
    return to_frame(rows, ("geom",))


def clip(line: BaseGeometry, outline: BaseGeometry) -> MultiLineString:
    """The parts of ``line`` inside ``outline`` (untouched when it is wholly inside)."""
    inside = line if outline.covers(line) else shapely.line_merge(line.intersection(outline), directed=True)
    parts = getattr(inside, "geoms", [inside])
    return MultiLineString([p for p in parts if isinstance(p, LineString) and not p.is_empty])


def _schematic(
    spec: Spec, outline: MultiPolygon, frame: LocalFrame, seats: dict[str, Point], river: BaseGeometry, seed: int
) -> Line:
    """A named line through its anchors with seeded wiggles between them, clipped to the county."""
    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode())])
    anchors: list[Point] = []
    for code, east, north in spec.anchors:
        if code == RIVER:
            anchors.append(nearest_points(river, anchors[-1])[0])
        elif east == 0 and north == 0:
            anchors.append(seats[code])
        else:
            x, y = frame.xy(seats[code])
            anchors.append(frame.point_deg(x + east, y + north))
    coords: list[tuple[float, float]] = [(anchors[0].x, anchors[0].y)]
    for a, b in itertools.pairwise(anchors):
        bends = _bends(np.array(frame.xy(a)), np.array(frame.xy(b)), WIGGLE_M[spec.kind], rng)
        coords.extend((p.x, p.y) for p in (frame.point_deg(x, y) for x, y in bends))
        coords.append((b.x, b.y))
    geom = clip(LineString(coords), outline)
    return Line(spec.kind, spec.name, spec.name_en, geom, spec.county_code, True, SCHEMATIC_SOURCE)


def _bends(a: Coords, b: Coords, amplitude: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Intermediate points every ~1.5 km between ``a`` and ``b``, pushed sideways a little."""
    step = b - a
    length = float(math.hypot(*step))
    n = max(1, round(length / STEP_M))
    side = np.array([-step[1], step[0]]) / max(length, 1.0)
    amp = min(amplitude, 0.1 * length)
    out = []
    for i, z in enumerate(rng.normal(size=n - 1), start=1):
        t = i / n
        x, y = a + t * step + side * amp * math.sin(math.pi * t) * z
        out.append((float(x), float(y)))
    return out


def _riverside(river: MultiLineString, outline: MultiPolygon, frame: LocalFrame) -> Line:
    """沿黄路 the Yellow River offset 1.5 km to its west bank, clipped to Pingluo."""
    sides = []
    for distance in (1500.0, -1500.0):
        parts = [shapely.offset_curve(p, distance, quad_segs=4) for p in frame.to_m(river).geoms]
        sides.append(frame.to_deg(shapely.union_all(parts)))
    west = min(sides, key=lambda g: g.centroid.x)
    geom = clip(west, outline)
    return Line("road", "沿黄路", "Yellow River Riverside Road", geom, PINGLUO, True, SCHEMATIC_SOURCE)


def _network(regions: gpd.GeoDataFrame, county: str, outline: MultiPolygon, frame: LocalFrame) -> list[Line]:
    """村道、巷道 roads between village seats and lanes to grid seats, connected through the seats."""
    mine = regions[regions["county_code"] == county].sort_values("code")
    villages, grids = (mine[mine["level"] == level] for level in ("village", "grid"))
    ring, ring_edges = _waypoints(outline, frame, len(villages) + len(grids))
    nodes: list[Point] = [*villages["seat"], *grids["seat"], *ring]
    names: list[str] = list(villages["name"])
    n = len(names)
    xy = np.array([frame.xy(p) for p in nodes])
    inner = prep(outline)
    graph = _graph(nodes, delaunay_edges(xy) + ring_edges, inner)
    edges = [e for e in delaunay_edges(xy[:n]) if _inside(nodes, e, inner)]
    short = {e for e in edges if edge_length(xy, e) <= MAX_ROAD_M and gabriel(xy[:n], *e)}
    paths = [[i, j] for i, j in sorted(short | spanning_tree(xy[:n], edges))]
    paths += _bridges(graph, xy, n, paths)
    out = [Line("road", f"{names[p[0]]}—{names[p[-1]]}道路", None, MultiLineString([[nodes[k] for k in p]]),
                county, True, ROAD_SOURCE) for p in paths]  # fmt: skip
    home = {code: i for i, code in enumerate(villages["code"])}
    lanes: dict[int, list[list[int]]] = {}
    for g, parent in enumerate(grids["parent_code"], start=n):
        v = home[parent]
        lane = [v, g] if _inside(nodes, (v, g), inner) else _shortest(graph, xy, {v}, {g})
        lanes.setdefault(v, []).append(lane)
    for v, parts in sorted(lanes.items()):
        geom = MultiLineString([[nodes[k] for k in p] for p in parts])
        out.append(Line("lane", f"{names[v]}巷道", None, geom, county, True, LANE_SOURCE))
    return out


def _waypoints(outline: MultiPolygon, frame: LocalFrame, first: int) -> tuple[list[Point], list[tuple[int, int]]]:
    """Detour points every ≤ 400 m along the county edge, 150 m inside, chained ring by ring.

    Straight roads between seats cannot always stay inside a ragged county; paths through these
    points can, so groups of villages and grid seats that no straight line reaches still join.
    """
    points: list[Point] = []
    edges: list[tuple[int, int]] = []
    for part in polygons(frame.to_m(outline).buffer(-WAYPOINT_INSET_M)):
        ring = list(shapely.segmentize(part.exterior, WAYPOINT_STEP_M).coords)[:-1]
        start = first + len(points)
        points.extend(frame.point_deg(x, y) for x, y in ring)
        edges.extend((start + k, start + (k + 1) % len(ring)) for k in range(len(ring)))
    return points, edges


def _inside(nodes: list[Point], edge: tuple[int, int], outline: PreparedGeometry[MultiPolygon]) -> bool:
    return bool(outline.covers(LineString([nodes[edge[0]], nodes[edge[1]]])))


def _graph(
    nodes: list[Point], edges: list[tuple[int, int]], outline: PreparedGeometry[MultiPolygon]
) -> list[list[int]]:
    """Adjacency lists of the Delaunay edges of all seats that stay inside the county."""
    graph: list[list[int]] = [[] for _ in nodes]
    for i, j in edges:
        if _inside(nodes, (i, j), outline):
            graph[i].append(j)
            graph[j].append(i)
    return graph


def _bridges(graph: list[list[int]], xy: Coords, n: int, paths: list[list[int]]) -> list[list[int]]:
    """Roads (through grid seats) joining every other group of villages to the largest one."""
    root = list(range(n))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for p in paths:
        root[find(p[0])] = find(p[-1])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    main, out = set(ordered[0]), []
    for group in ordered[1:]:
        out.append(_shortest(graph, xy, main, set(group)))
        main |= set(group)
    return out


def _shortest(graph: list[list[int]], xy: Coords, sources: set[int], targets: set[int]) -> list[int]:
    """Dijkstra: the shortest node path from any of ``sources`` to any of ``targets``."""
    best = dict.fromkeys(sources, 0.0)
    back: dict[int, int] = {}
    queue = [(0.0, s) for s in sorted(sources)]
    heapq.heapify(queue)
    while queue:
        d, i = heapq.heappop(queue)
        if d > best[i]:
            continue
        if i in targets:
            path = [i]
            while path[-1] in back:
                path.append(back[path[-1]])
            return path[::-1]
        for j in graph[i]:
            dj = d + edge_length(xy, (i, j))
            if dj < best.get(j, math.inf):
                best[j], back[j] = dj, i
                heapq.heappush(queue, (dj, j))
    raise ValueError("no path inside the county between two groups of seats")


def gabriel(xy: Coords, i: int, j: int) -> bool:
    """No other point lies inside the circle whose diameter is the edge (Gabriel graph)."""
    mid = (xy[i] + xy[j]) / 2
    gaps = np.sum((xy - mid) ** 2, axis=1)
    gaps[[i, j]] = np.inf
    return bool(gaps.min() >= np.sum((xy[i] - mid) ** 2))
