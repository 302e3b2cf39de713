"""Readers for the real source files (源数据) in ``data/sources``, and the small geometry kit
the synthetic builders (:mod:`data.regions`, :mod:`data.baselines`) share.

Everything read here is WGS84 lon/lat (see ``data/sources/SOURCE.md``). GeoJSON is read with the
standard library and shapely, the CSVs with :mod:`csv`, so the readers are small, typed and
deterministic (sorted by code).

:class:`LocalFrame` is the flat metric frame the builders draw in: an affine map from lon/lat to
metres east/north of a reference point, scaled by the ellipsoid's radii of curvature at the
reference latitude (scale error < 0.6 % across one county). Being affine, it maps straight lines
to straight lines and keeps point-in-polygon relations, so shapes built in metres can be turned
back into degrees without changing their topology. :func:`voronoi`, :func:`delaunay_edges` and
:func:`sample_in` work in that frame.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

G = TypeVar("G", bound=BaseGeometry)
Coords = npt.NDArray[np.float64]

COUNTY_SOURCE = "Vonng/adcode CC BY 4.0 (county outline, GCJ-02→WGS84)"
RIVER_SOURCE = "Made with Natural Earth (public domain), 1:50m"
_A = 6378137.0  # CGCS2000 / WGS84 semi-major axis, metres
_E2 = 0.00669438002290  # CGCS2000 first eccentricity squared


@dataclass(frozen=True)
class County:
    """区县 county outline (real, from the source file)."""

    code: str
    name: str
    name_en: str
    geom: Polygon


@dataclass(frozen=True)
class Seat:
    """乡镇驻地 township seat point (real, or synthetic where the source has none)."""

    code: str
    name: str
    county_code: str
    point: Point
    synthetic: bool = False


@dataclass(frozen=True)
class VillageRow:
    """村级单位 one village-level unit of the NBS 2016 list, with its point if the source has one."""

    code: str
    name: str
    short_name: str
    township: str
    township_code: str
    county_code: str
    ur_code: str
    point: Point | None


@dataclass(frozen=True)
class Hint:
    """位置提示 placement hint for a village named in the seed documents."""

    code: str
    point: Point | None
    radius_m: float | None


@dataclass(frozen=True)
class LocalFrame:
    """局部平面坐标 a flat metric frame (metres east/north) around a reference lon/lat."""

    lon0: float
    lat0: float
    kx: float
    ky: float

    @classmethod
    def around(cls, lon0: float, lat0: float) -> LocalFrame:
        """The frame centred on ``lon0``/``lat0``, scaled by the ellipsoid's radii there."""
        s = math.sin(math.radians(lat0))
        w = math.sqrt(1.0 - _E2 * s * s)
        meridian = _A * (1.0 - _E2) / w**3
        normal = _A / w
        rad = math.pi / 180.0
        return cls(lon0, lat0, normal * math.cos(math.radians(lat0)) * rad, meridian * rad)

    @classmethod
    def of(cls, geom: BaseGeometry) -> LocalFrame:
        """The frame centred on the centroid of ``geom`` (a county outline)."""
        c = geom.centroid
        return cls.around(c.x, c.y)

    def to_m(self, geom: G) -> G:
        """The geometry in metres of this frame."""
        return _apply(geom, self._fwd)

    def to_deg(self, geom: G) -> G:
        """The geometry (in metres of this frame) back in lon/lat degrees."""
        return _apply(geom, self._inv)

    def xy(self, p: Point) -> tuple[float, float]:
        """Frame coordinates (metres east, north) of a lon/lat point."""
        return (p.x - self.lon0) * self.kx, (p.y - self.lat0) * self.ky

    def point_deg(self, x: float, y: float) -> Point:
        """The lon/lat point of frame coordinates ``x``/``y``."""
        return Point(self.lon0 + x / self.kx, self.lat0 + y / self.ky)

    def _fwd(self, c: Coords) -> Coords:
        out: Coords = (c - np.array([self.lon0, self.lat0])) * np.array([self.kx, self.ky])
        return out

    def _inv(self, c: Coords) -> Coords:
        out: Coords = c / np.array([self.kx, self.ky]) + np.array([self.lon0, self.lat0])
        return out


def _apply(geom: G, fn: Callable[[Coords], Coords]) -> G:
    out: G = shapely.transform(geom, fn)
    return out


def _features(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    features: list[dict[str, Any]] = data["features"]
    return features


def read_counties(sources: Path) -> list[County]:
    """区县界 the two county outlines, sorted by code."""
    out = []
    for f in _features(sources / "counties.geojson"):
        p = f["properties"]
        geom = shape(f["geometry"])
        if not isinstance(geom, Polygon):
            raise ValueError(f"county {p['adcode']}: expected a Polygon, got {geom.geom_type}")
        out.append(County(str(p["adcode"]), str(p["name"]), str(p["name_en"]), geom))
    return sorted(out, key=lambda c: c.code)


def read_township_seats(sources: Path) -> list[Seat]:
    """乡镇驻地 the real township seat points, sorted by township code."""
    out = []
    for f in _features(sources / "township_seats.geojson"):
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        out.append(Seat(str(p["code"]), str(p["name"]), str(p["adcode"]), Point(lon, lat)))
    return sorted(out, key=lambda s: s.code)


def _opt_point(lon: str, lat: str) -> Point | None:
    return Point(float(lon), float(lat)) if lon and lat else None


def read_villages(sources: Path) -> list[VillageRow]:
    """村级单位 every village-level unit of ``villages_nbs2016.csv``, sorted by code."""
    with (sources / "villages_nbs2016.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = [
        VillageRow(r["code12"], r["name"], r["short_name"], r["township"], r["township_code"],
                   r["adcode"], r["ur_code"], _opt_point(r["lon_wgs84"], r["lat_wgs84"]))
        for r in rows
    ]  # fmt: skip
    return sorted(out, key=lambda v: v.code)


def read_hints(sources: Path) -> dict[str, Hint]:
    """位置提示 the placement hints of the villages named in the seeds, by village code."""
    with (sources / "named_places_placement.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {
        r["code12"]: Hint(r["code12"], _opt_point(r["lon_wgs84"], r["lat_wgs84"]),
                          float(r["uncertainty_m"]) if r["uncertainty_m"] else None)
        for r in rows
    }  # fmt: skip


def read_yellow_river(sources: Path) -> MultiLineString:
    """黄河 the Yellow River centre line (Natural Earth 1:50m), as one MultiLineString."""
    lines = [shape(f["geometry"]) for f in _features(sources / "yellow_river_ne50m.geojson")]
    return MultiLineString([p for p in shapely.get_parts(lines) if isinstance(p, LineString)])


def polygons(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons of a (multi)polygon or collection."""
    parts = getattr(geom, "geoms", [geom])
    return [p for p in parts if isinstance(p, Polygon) and not p.is_empty]


def multi(geom: BaseGeometry) -> MultiPolygon:
    """The polygons of ``geom`` as a MultiPolygon (always Multi, even for one part)."""
    return MultiPolygon(polygons(geom))


def sample_in(region: BaseGeometry, n: int, rng: np.random.Generator) -> Coords:
    """``n`` seeded uniform points (metres) inside ``region``, by rejection from its bounds."""
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    found: list[Coords] = []
    for _ in range(1000):
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(8 * n, 2))
        found.append(xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])])
        if sum(len(f) for f in found) >= n:
            return np.concatenate(found)[:n]
    raise ValueError(f"cannot sample {n} points in a region of {region.area:.0f} m²")


def voronoi(xy: Coords, around: BaseGeometry) -> list[Polygon]:
    """Voronoi cells of the points ``xy`` in input order, reaching well beyond ``around``."""
    minx, miny, maxx, maxy = around.bounds
    pad = 10 * max(maxx - minx, maxy - miny, 1.0)
    extent = box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = shapely.voronoi_polygons(MultiPoint(xy), extend_to=extent, ordered=True)
    out = polygons(cells)
    if len(out) != len(xy):
        raise ValueError(f"{len(xy)} points gave {len(out)} Voronoi cells (duplicate points?)")
    return out


def delaunay_edges(xy: Coords) -> list[tuple[int, int]]:
    """The Delaunay edges of the points ``xy`` as sorted index pairs."""
    index = {(float(x), float(y)): i for i, (x, y) in enumerate(xy)}
    found = shapely.delaunay_triangles(MultiPoint(xy), only_edges=True)
    pairs = set()
    for edge in getattr(found, "geoms", []):
        i, j = (index[(float(x), float(y))] for x, y in edge.coords)
        pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def edge_length(xy: Coords, edge: tuple[int, int]) -> float:
    """Length of the edge between the points ``edge`` of ``xy``."""
    return float(np.hypot(*(xy[edge[0]] - xy[edge[1]])))


def spanning_tree(xy: Coords, edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Kruskal's minimum spanning tree (or forest) of ``edges``."""
    root = list(range(len(xy)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    tree = set()
    for i, j in sorted(edges, key=lambda e: (edge_length(xy, e), e)):
        a, b = find(i), find(j)
        if a != b:
            root[a] = b
            tree.add((i, j))
    return tree


def node_coverage(shapes: list[MultiPolygon], tolerance: float) -> list[MultiPolygon]:
    """Insert into every ring the vertices of all ``shapes`` lying on its edges (a noded coverage).

    Afterwards shapes that share a border share every vertex along it, so a tiling that is exact in
    planar lon/lat stays exact once projected (EPSG:4544) or read as geodesics: a long straight edge
    is never split in one polygon and whole in its neighbour or parent.
    """
    nodes = np.unique(np.concatenate([shapely.get_coordinates(s) for s in shapes]), axis=0)
    tree = shapely.STRtree(np.asarray(shapely.points(nodes), dtype=object))

    def ring(xy: Coords) -> Coords:
        a, b = xy[:-1], xy[1:]
        seg, k = tree.query(shapely.linestrings(np.stack([a, b], axis=1)), predicate="dwithin", distance=tolerance)
        d = b[seg] - a[seg]
        t = np.einsum("ij,ij->i", nodes[k] - a[seg], d) / np.einsum("ij,ij->i", d, d)
        keep = (t > 0) & (t < 1) & (nodes[k] != a[seg]).any(axis=1) & (nodes[k] != b[seg]).any(axis=1)
        order = np.lexsort(
            (np.concatenate([np.zeros(len(a)), t[keep]]), np.concatenate([np.arange(len(a)), seg[keep]]))
        )
        out = np.concatenate([a, nodes[k[keep]]])[order]
        return np.vstack([out, out[:1]])

    return [
        MultiPolygon([Polygon(ring(np.asarray(p.exterior.coords)), [ring(np.asarray(r.coords)) for r in p.interiors])
                      for p in s.geoms])
        for s in shapes
    ]  # fmt: skip


def to_frame(rows: Sequence[Any], shapes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Dataclass rows as a GeoDataFrame in EPSG:4326, ``shapes[0]`` the active geometry column.

    Text columns stay ``object`` so that missing values are ``None`` (pandas would make them NaN).
    """
    names = [f.name for f in fields(rows[0])]
    gdf = gpd.GeoDataFrame({n: [getattr(r, n) for r in rows] for n in names if n not in shapes}, dtype=object)
    gdf["synthetic"] = gdf["synthetic"].astype(bool)
    for n in shapes:
        gdf[n] = gpd.GeoSeries([getattr(r, n) for r in rows], crs="EPSG:4326")
    return gdf.set_geometry(shapes[0])[names]
