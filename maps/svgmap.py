"""Small static maps (专题小图) as inline SVG: areas coloured by a rate, for office pages and print.

Input is a GeoJSON FeatureCollection of polygons in EPSG:4326 whose properties carry ``name``,
``value`` (a share in 0..1 or null) and optionally ``label`` ([lon, lat] of a point inside, from
PostGIS). Output is one ``<svg>`` element: no script, no network, prints as it shows. The
projection is plate carrée with longitudes scaled by cos(mean latitude), which is what a
township-sized map needs; nothing is measured on it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: Colour classes of a rate (达标率、结案率): lower bound (inclusive), colour, label.
RATE_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.95, "#1a9850", "≥ 95%"),
    (0.85, "#91cf60", "85–95%"),
    (0.70, "#fee08b", "70–85%"),
    (0.50, "#fc8d59", "50–70%"),
    (0.0, "#d73027", "< 50%"),
)
NO_DATA = "#d9d9d9"


def rate_colour(value: float | None) -> str:
    """The fill colour of a rate (grey when there is no data)."""
    if value is None:
        return NO_DATA
    return next(colour for bound, colour, _ in RATE_CLASSES if value >= bound)


@dataclass(frozen=True)
class Frame:
    """Maps lon/lat to SVG pixels inside a box with a margin."""

    west: float
    north: float
    scale: float
    kx: float
    margin: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel position of a lon/lat pair."""
        return (self.margin + (lon - self.west) * self.kx * self.scale, self.margin + (self.north - lat) * self.scale)


def _rings(geometry: dict[str, Any]) -> Iterator[Sequence[Sequence[float]]]:
    coords = geometry.get("coordinates") or []
    polygons = (
        [coords] if geometry.get("type") == "Polygon" else coords if geometry.get("type") == "MultiPolygon" else []
    )
    for polygon in polygons:
        yield from polygon


def _frame(features: list[dict[str, Any]], width: float, height: float, margin: float) -> Frame:
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    if not points:
        return Frame(0.0, 0.0, 1.0, 1.0, margin)
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((south + north) / 2))
    scale = min((width - 2 * margin) / max((east - west) * kx, 1e-9), (height - 2 * margin) / max(north - south, 1e-9))
    return Frame(west, north, scale, kx, margin)


def _path(geometry: dict[str, Any], frame: Frame) -> str:
    parts = []
    for ring in _rings(geometry):
        xy = [frame.xy(p[0], p[1]) for p in ring]
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


def _legend(x: float, y: float, title: str) -> str:
    rows = [f'<text x="{x}" y="{y}" class="vm-svg-legend-title">{html.escape(title)}</text>']
    entries = [(colour, label) for _, colour, label in RATE_CLASSES] + [(NO_DATA, "无数据 no data")]
    for i, (colour, label) in enumerate(entries):
        top = y + 8 + i * 16
        rows.append(
            f'<rect x="{x}" y="{top}" width="14" height="11" fill="{colour}" stroke="#555" stroke-width="0.5"/>'
            f'<text x="{x + 19}" y="{top + 10}">{html.escape(label)}</text>'
        )
    return "".join(rows)


def choropleth_svg(
    collection: dict[str, Any], *, title: str, legend_title: str, width: int = 640, height: int = 420
) -> str:
    """An SVG map of the features coloured by ``properties.value``, labelled by ``name``."""
    features = [f for f in collection.get("features", []) if f.get("geometry")]
    frame = _frame(features, width - 150, height, 12)
    shapes, labels = [], []
    for f in features:
        props = f.get("properties") or {}
        name, value = str(props.get("name", "")), props.get("value")
        shown = "无数据" if value is None else f"{round(100 * float(value))}%"
        shapes.append(
            f'<path d="{_path(f["geometry"], frame)}" fill="{rate_colour(value)}" stroke="#444" '
            f'stroke-width="0.8" data-code="{html.escape(str(props.get("code", "")))}">'
            f"<title>{html.escape(name)} {shown}</title></path>"
        )
        if props.get("label"):
            x, y = frame.xy(*props["label"][:2])
            labels.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{html.escape(name)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vm-svg-map" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
        f'<title>{html.escape(title)}</title><g class="vm-svg-areas">{"".join(shapes)}</g>'
        f'<g class="vm-svg-labels" font-size="11" fill="#222">{"".join(labels)}</g>'
        f'<g class="vm-svg-legend" font-size="11">{_legend(width - 140, 24, legend_title)}</g></svg>'
    )
