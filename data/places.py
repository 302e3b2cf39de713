"""Where sample problems lie (样例问题位置): houses near grid seats, piles by roads and edges.

Offsets are drawn in metres and turned into degrees at the local latitude; every geometry is
checked to lie inside its village so that the grid found by PostGIS is the one intended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring
from shapely.prepared import PreparedGeometry, prep

M_PER_DEG_LAT = 111_320.0
G = TypeVar("G", bound=BaseGeometry)


@dataclass
class Village:
    """A village as the generator sees it: polygon, seats, nearby roads and water lines."""

    code: str
    name: str
    township: str
    county: str
    polygon: BaseGeometry
    seat: Point
    grid_seats: list[tuple[str, Point]]
    roads: list[LineString] = field(default_factory=list)
    waters: list[LineString] = field(default_factory=list)
    inside: PreparedGeometry[BaseGeometry] = field(init=False)

    def __post_init__(self) -> None:
        self.inside = prep(self.polygon)


def _deg(lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))), north_m / M_PER_DEG_LAT


def offset(p: Point, east_m: float, north_m: float) -> Point:
    """The point ``east_m``/``north_m`` metres away from ``p``."""
    dx, dy = _deg(p.y, east_m, north_m)
    return Point(p.x + dx, p.y + dy)


class Placer:
    """Draws plausible geometries for each kind of problem inside a village."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def _inside(self, v: Village, make: Callable[[], G], tries: int = 25) -> G | Point:
        for _ in range(tries):
            geom = make()
            if geom.is_valid and not geom.is_empty and v.inside.contains(geom):
                return geom
        return v.seat

    def near(self, v: Village, centre: Point, spread_m: float) -> Point:
        """A point around ``centre`` (normal spread in metres), inside the village."""

        def make() -> Point:
            e, n = self.rng.normal(0.0, spread_m, size=2)
            return offset(centre, float(e), float(n))

        return self._inside(v, make)

    def near_houses(self, v: Village, spread_m: float = 160.0) -> Point:
        """A point in the settled part of the village (around a grid seat)."""
        _code, seat = v.grid_seats[int(self.rng.integers(len(v.grid_seats)))]
        return self.near(v, seat, spread_m)

    def by_road(self, v: Village) -> tuple[Point, bool]:
        """A point a few metres off a road or lane (路边); False when the village has none."""
        if not v.roads:
            return self.near_houses(v), False

        def make() -> Point:
            line = v.roads[int(self.rng.integers(len(v.roads)))]
            at = line.interpolate(float(self.rng.random()), normalized=True)
            side = float(self.rng.choice([-1.0, 1.0])) * float(self.rng.uniform(4.0, 15.0))
            return offset(at, side, float(self.rng.uniform(-5.0, 5.0)))

        geom = self._inside(v, make)
        return geom, geom is not v.seat

    def by_edge(self, v: Village) -> Point:
        """A point just inside the village boundary (村边)."""
        ring = v.polygon.boundary

        def make() -> Point:
            at = ring.interpolate(float(self.rng.random()), normalized=True)
            toward = LineString([at, v.seat])
            return toward.interpolate(float(self.rng.uniform(25.0, 90.0)) / M_PER_DEG_LAT)

        return self._inside(v, make)

    def in_fields(self, v: Village) -> Point:
        """Anywhere in the village (田边、地边)."""
        minx, miny, maxx, maxy = v.polygon.bounds

        def make() -> Point:
            return Point(self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))

        return self._inside(v, make, tries=60)

    def pond(self, v: Village) -> BaseGeometry:
        """A small irregular pond polygon (坑塘) near the houses."""

        def make() -> Polygon:
            centre = self.near_houses(v, spread_m=350.0)
            radius = float(self.rng.uniform(15.0, 55.0))
            angles = np.sort(self.rng.uniform(0.0, 2 * math.pi, size=9))
            ring = [
                offset(centre, r * math.cos(a), r * math.sin(a))
                for a, r in zip(angles, radius * self.rng.uniform(0.7, 1.2, size=9), strict=True)
            ]
            return Polygon([(p.x, p.y) for p in ring])

        return self._inside(v, make)

    def ditch(self, v: Village) -> BaseGeometry:
        """A stretch of ditch (渠道、排水沟): part of a water line in the village, else a new one."""

        def make() -> BaseGeometry:
            if v.waters and self.rng.random() < 0.7:
                line = v.waters[int(self.rng.integers(len(v.waters)))]
                frac = float(self.rng.uniform(0.0, 0.8))
                part: BaseGeometry = substring(line, frac, frac + float(self.rng.uniform(0.05, 0.2)), normalized=True)
                return part
            origin = self.in_fields(v)
            bearing = float(self.rng.uniform(0.0, 2 * math.pi))
            length = float(self.rng.uniform(150.0, 450.0))
            end = offset(origin, length * math.cos(bearing), length * math.sin(bearing))
            return LineString([origin, end])

        return self._inside(v, make)

    def wall(self, v: Village) -> BaseGeometry:
        """A ruined wall (残垣断壁): mostly a point, sometimes its 10–40 m line."""
        centre = self.near_houses(v)
        if self.rng.random() < 0.7:
            return centre
        half = float(self.rng.uniform(5.0, 20.0))
        line = LineString([offset(centre, -half, 0.0), offset(centre, half, 0.0)])
        turned = affinity.rotate(line, float(self.rng.uniform(0, 180)), origin=centre)
        return self._inside(v, lambda: turned)

    def house(self, v: Village) -> BaseGeometry:
        """A dilapidated house (危房): a point, or its 10 × 14 m footprint."""
        centre = self.near_houses(v)
        if self.rng.random() < 0.6:
            return centre
        corners = [offset(centre, e, n) for e, n in ((-5, -7), (5, -7), (5, 7), (-5, 7))]
        box = Polygon([(p.x, p.y) for p in corners])
        turned = affinity.rotate(box, float(self.rng.uniform(0, 90)), origin=centre)
        return self._inside(v, lambda: turned)


def lines_in(polygon: BaseGeometry, lines: list[BaseGeometry]) -> list[LineString]:
    """The parts of ``lines`` inside ``polygon`` that are long enough to put something on."""
    parts: list[LineString] = []
    for line in lines:
        clipped = line.intersection(polygon)
        pieces = clipped.geoms if isinstance(clipped, MultiLineString) else [clipped]
        parts.extend(p for p in pieces if isinstance(p, LineString) and p.length > 2e-4)
    return parts
