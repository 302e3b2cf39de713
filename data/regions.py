"""Sample region polygons (样例区划): 区县 counties, 乡镇 townships, 村 villages and 网格 grids.

Only the two county outlines are real. Township, village and grid polygons do not exist in any
open source, so they are synthesised (``synthetic=True``) deterministically from a seed:

1. Seats: the 27 real township seats; the two seatless units (孙家滩管委会 640302401, 太阳山开发区
   640302402) get a synthetic seat in a latitude band of Litong's southern lobe (the centroid of
   the largest part of county ∩ band, or a point on its surface when the centroid falls outside).
2. Village points: real points where the source has one; each township's seat village (named
   like the township or 场部, else ur_code 210/121, else the first code; never one with a real
   point) exactly at the seat; the villages named in the seeds within the uncertainty radius of
   their placement hint (18 of 19 have one; 赵家沟村 has none and goes by ur_code); the rest near
   the seat by NBS ur_code (210/121 ≤ 1.5 km, 111/112/122/123 ≤ 3 km, 220 ≤ 6 km). Every placed
   point lies inside its township's share of a Voronoi of seats and real points (shrunk by 400 m
   where possible, so townships come out contiguous); among 12 seeded candidates the one farthest
   from the points already placed wins (blue-noise spacing, no tiny villages).
3. 村界: the Voronoi of all village points clipped to the county; 乡镇界: the union of a
   township's villages. 网格: each village is split into 2–6 grids (more for urban and bigger
   villages) by the Voronoi of seeded points relaxed by Lloyd's algorithm, clipped to the village
   and numbered from 001, north-west first.
   A clipped cell that falls apart keeps the part holding its own point; each other part joins
   the neighbour sharing the longest border with it.

Geometry is drawn in a local metric frame (:class:`data.sources.LocalFrame`) and clipped in lon/lat
with snap-rounding on a 1e-11° grid (≈1 µm), so siblings share their borders exactly; finally the
coverage of each county is noded (:func:`data.sources.node_coverage`): wherever a border meets
another, every polygon along it gets that vertex, the real county outline included (its shape is
unchanged: the added vertices lie on its edges, within 3e-11°). So the tiling also holds after
projecting, not only in planar lon/lat.
Tolerance: per level, the symmetric difference between a parent and the union of its children,
and the total overlap of its children, are each < 1 m² per parent, measured after projecting
to EPSG:4544 (CGCS2000 / 3° GK CM 105°E); measured values are ≈ 0 m² (≤ 1e-6 m²).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from data.sources import (
    COUNTY_SOURCE,
    Coords,
    County,
    Hint,
    LocalFrame,
    Seat,
    VillageRow,
    multi,
    node_coverage,
    polygons,
    read_counties,
    read_hints,
    read_township_seats,
    read_villages,
    sample_in,
    to_frame,
    voronoi,
)

SEED = 20211215
GRID_DEG = 1e-11
NODE_DEG = 3e-11
SEAT_BANDS = {"640302401": (37.55, 37.70), "640302402": (37.30, 37.55)}
GRID_BASE = {"111": 4, "112": 4, "121": 3, "122": 3, "210": 3, "123": 2, "220": 2}
LLOYD_STEPS = 5
MIN_GRID_M2 = 80_000.0
RADIUS_M = {"210": 1500.0, "121": 1500.0, "111": 3000.0, "112": 3000.0, "122": 3000.0, "123": 3000.0, "220": 6000.0}
MARGIN_M = 400.0
CANDIDATES = 12
TOWNSHIP_SOURCE = "synthetic: union of the township's village cells (VillageMap sample)"
SEAT_NOTE = "; seat synthetic too (none in the source)"
VILLAGE_SOURCE = "synthetic: Voronoi of village points clipped to the county (VillageMap sample)"
GRID_SOURCE = "synthetic: Lloyd-relaxed Voronoi of seeded points clipped to the village (VillageMap sample)"
LEVELS = ("county", "township", "village", "grid")


@dataclass(frozen=True)
class Region:
    """One row of the region frame (区划表)."""

    code: str
    level: str
    name: str
    official_name: str
    name_en: str | None
    parent_code: str | None
    county_code: str
    ur_code: str | None
    geom: MultiPolygon
    seat: Point | None
    synthetic: bool
    source: str


def build_regions(sources: Path, seed: int = SEED) -> gpd.GeoDataFrame:
    """区划 counties, townships, villages and grids of both pilot counties, tiling each parent.

    Returns one row per region (counties, townships, villages, grids, each sorted by code) with
    the columns of :class:`Region`, the MultiPolygon column ``geom`` active, crs EPSG:4326.
    """
    villages = read_villages(sources)
    hints = read_hints(sources)
    counties = read_counties(sources)
    seats = all_seats(counties, read_township_seats(sources), villages)
    rows: list[Region] = []
    for county in counties:
        mine = [v for v in villages if v.county_code == county.code]
        points = place_villages(county, seats, mine, hints, seed)
        built = [_county_row(county), *_county_children(county, seats, mine, points, seed)]
        noded = node_coverage([r.geom for r in built], NODE_DEG)
        rows.extend(replace(r, geom=g) for r, g in zip(built, noded, strict=True))
    rows.sort(key=lambda r: (LEVELS.index(r.level), r.code))
    return to_frame(rows, ("geom", "seat"))


def all_seats(counties: list[County], real: list[Seat], villages: list[VillageRow]) -> dict[str, Seat]:
    """乡镇驻地 the real seats plus a synthetic seat for each listed township without one."""
    seats = {s.code: s for s in real}
    outline = {c.code: c.geom for c in counties}
    for v in villages:
        if v.township_code not in seats:
            if v.township_code not in SEAT_BANDS:
                raise ValueError(f"township {v.township_code} {v.township} has no seat and no band")
            lo, hi = SEAT_BANDS[v.township_code]
            point = _band_point(outline[v.county_code], lo, hi)
            seats[v.township_code] = Seat(v.township_code, v.township, v.county_code, point, True)
    return dict(sorted(seats.items()))


def _band_point(outline: Polygon, lo: float, hi: float) -> Point:
    minx, _, maxx, _ = outline.bounds
    part = max(polygons(outline.intersection(box(minx, lo, maxx, hi))), key=lambda p: p.area)
    centre = part.centroid
    return centre if part.contains(centre) else part.point_on_surface()


def seat_village(rows: list[VillageRow]) -> str:
    """驻地村 the code of the village placed at its township's seat (rows: one township)."""
    stem = rows[0].township
    for suffix in ("管委会", "开发区", "农场", "镇", "乡"):
        stem = stem.removesuffix(suffix)

    def rank(v: VillageRow) -> tuple[bool, bool, str]:
        own = v.short_name.removesuffix("村").removesuffix("社区") == stem or v.short_name == "场部"
        return (not own, v.ur_code not in ("210", "121"), v.code)

    return min((v for v in rows if v.point is None), key=rank).code


def place_villages(
    county: County, seats: dict[str, Seat], rows: list[VillageRow], hints: dict[str, Hint], seed: int
) -> dict[str, Point]:
    """村委会位置 one lon/lat point per village of the county (rows sorted by code), by code."""
    frame = LocalFrame.of(county.geom)
    rng = np.random.default_rng([seed, int(county.code)])
    mine = {c: s.point for c, s in seats.items() if s.county_code == county.code}
    placed = {v.code: v.point for v in rows if v.point is not None}
    for t, point in mine.items():
        placed[seat_village([v for v in rows if v.township_code == t])] = point
    known = [(v.township_code, v.point) for v in rows if v.point is not None]
    areas = _territories(frame, county.geom, mine, known)
    xy = [frame.xy(p) for p in placed.values()]
    todo = [v for v in rows if v.code not in placed]
    for v in sorted(todo, key=lambda v: (_target(v, hints, mine)[1], v.code)):
        centre, radius = _target(v, hints, mine)
        region = _region(areas[v.township_code], frame.to_m(centre), radius)
        x, y = farthest(sample_in(region, CANDIDATES, rng), np.array(xy))
        xy.append((x, y))
        placed[v.code] = frame.point_deg(x, y)
    return dict(sorted(placed.items()))


def _target(v: VillageRow, hints: dict[str, Hint], seats: dict[str, Point]) -> tuple[Point, float]:
    hint = hints.get(v.code)
    if hint is not None and hint.point is not None and hint.radius_m is not None:
        return hint.point, hint.radius_m
    return seats[v.township_code], RADIUS_M[v.ur_code]


def _territories(
    frame: LocalFrame, outline: Polygon, seats: dict[str, Point], known: list[tuple[str, Point]]
) -> dict[str, BaseGeometry]:
    """Each township's share of the county (metres): Voronoi of its seat and real village points."""
    gens = [*seats.items(), *known]
    area = frame.to_m(outline)
    cells = voronoi(np.array([frame.xy(p) for _, p in gens]), area)
    return {
        t: shapely.union_all([c for (g, _), c in zip(gens, cells, strict=True) if g == t]).intersection(area)
        for t in seats
    }


def _region(area: BaseGeometry, centre: Point, radius: float) -> BaseGeometry:
    disc = centre.buffer(radius, quad_segs=16)
    for base in (area.buffer(-MARGIN_M), area):
        found = base.intersection(disc)
        if found.area > 1.0:
            return found
    return area


def tile(parent: BaseGeometry, cells: list[Polygon], keepers: list[Point]) -> list[MultiPolygon]:
    """Clip ``cells`` (lon/lat) to ``parent``; stray parts join their longest-border neighbour."""
    pieces = [polygons(shapely.intersection(c, parent, grid_size=GRID_DEG)) for c in cells]
    mains = [_main(ps, k) for ps, k in zip(pieces, keepers, strict=True)]
    extra: dict[int, list[Polygon]] = {}
    for i, ps in enumerate(pieces):
        for part in ps:
            if part is not mains[i]:
                extra.setdefault(_neighbour(part, i, mains), []).append(part)
    return [multi(shapely.union_all([m, *extra.get(i, [])], grid_size=GRID_DEG)) for i, m in enumerate(mains)]


def _main(parts: list[Polygon], keeper: Point) -> Polygon:
    """The part holding the cell's own point (the largest if none does)."""
    return next((p for p in parts if p.covers(keeper)), max(parts, key=lambda p: p.area))


def _neighbour(part: Polygon, owner: int, mains: list[Polygon]) -> int:
    """The main part sharing the longest border with ``part`` (else its owner)."""
    edge = part.boundary
    best, length = owner, 0.0
    for j, m in enumerate(mains):
        if j != owner and m.intersects(part):
            shared = edge.intersection(m.boundary).length
            if shared > length:
                best, length = j, shared
    return best


def _county_children(
    county: County, seats: dict[str, Seat], rows: list[VillageRow], points: dict[str, Point], seed: int
) -> list[Region]:
    """乡镇、村、网格 the synthetic regions of one county."""
    frame = LocalFrame.of(county.geom)
    keep = [points[v.code] for v in rows]
    cells = voronoi(np.array([frame.xy(p) for p in keep]), frame.to_m(county.geom))
    shapes = tile(county.geom, [frame.to_deg(c) for c in cells], keep)
    out: list[Region] = []
    for t in sorted({v.township_code for v in rows}):
        parts = [g for v, g in zip(rows, shapes, strict=True) if v.township_code == t]
        geom = multi(shapely.union_all(parts, grid_size=GRID_DEG))
        s = seats[t]
        out.append(Region(t, "township", s.name, s.name, None, county.code, county.code, None,
                          geom, s.point, True, TOWNSHIP_SOURCE + (SEAT_NOTE if s.synthetic else "")))  # fmt: skip
    for v, geom, point in zip(rows, shapes, keep, strict=True):
        out.append(Region(v.code, "village", v.short_name, v.name, None, v.township_code,
                          county.code, v.ur_code, geom, point, True, VILLAGE_SOURCE))  # fmt: skip
        out.extend(_grid_rows(v, geom, frame, np.random.default_rng([seed, int(v.code)])))
    return out


def grid_count(ur_code: str, area_m2: float) -> int:
    """网格数 grids per village: 2–4 by urban-rural class, +1 over 15 km², +1 over 50 km², ≥ 8 ha each."""
    wanted = GRID_BASE[ur_code] + (area_m2 > 15e6) + (area_m2 > 50e6)
    return max(2, min(wanted, 6, int(area_m2 // MIN_GRID_M2)))


def _grid_rows(v: VillageRow, village: MultiPolygon, frame: LocalFrame, rng: np.random.Generator) -> list[Region]:
    """网格 the grids of one village, numbered from 001 north-west first."""
    shape_m = frame.to_m(village)
    xy = sample_in(shape_m, grid_count(v.ur_code, shape_m.area), rng)
    for _ in range(LLOYD_STEPS):
        cells = voronoi(xy, shape_m)
        xy = np.array([_centre(shapely.intersection(c, shape_m), p) for c, p in zip(cells, xy, strict=True)])
    keep = [frame.point_deg(float(x), float(y)) for x, y in xy]
    shapes = tile(village, [frame.to_deg(c) for c in voronoi(xy, shape_m)], keep)
    order = sorted(range(len(xy)), key=lambda i: (float(xy[i, 0] - xy[i, 1]), i))
    out = []
    for n, i in enumerate(order, start=1):
        name = f"{v.short_name}第{n}网格"
        seat = keep[i] if shapes[i].contains(keep[i]) else shapes[i].point_on_surface()
        out.append(Region(f"{v.code}{n:03d}", "grid", name, name, None, v.code, v.county_code, None,
                          shapes[i], seat, True, GRID_SOURCE))  # fmt: skip
    return out


def _centre(cell: BaseGeometry, prev: Coords) -> tuple[float, float]:
    """Lloyd step: the cell's centroid, or a point on it when the centroid falls outside."""
    if cell.is_empty:
        return float(prev[0]), float(prev[1])
    c = cell.centroid if cell.contains(cell.centroid) else cell.point_on_surface()
    return c.x, c.y


def _county_row(county: County) -> Region:
    return Region(county.code, "county", county.name, county.name, county.name_en, None, county.code,
                  None, MultiPolygon([county.geom]), None, False, COUNTY_SOURCE)  # fmt: skip


def farthest(candidates: Coords, existing: Coords) -> tuple[float, float]:
    """The candidate farthest from every existing point (best-candidate sampling)."""
    if len(existing) == 0:
        return float(candidates[0, 0]), float(candidates[0, 1])
    gaps = np.hypot(candidates[:, None, 0] - existing[None, :, 0], candidates[:, None, 1] - existing[None, :, 1])
    x, y = candidates[int(np.argmax(gaps.min(axis=1)))]
    return float(x), float(y)
