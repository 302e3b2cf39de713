"""The grid patrol map (网格巡查图): a grid's open cases over VillageMap's own offline base map.

Input is plain GeoJSON (RFC 7946, [lon, lat]); output is one HTML page. No database, no network:
the default background is drawn from VillageMap's own layers (regions, roads, ditches, rivers,
names); OpenStreetMap, Tianditu (with a token) and Gaode (on the GCJ-02 page) are unselected base
layers (:mod:`maps.basemaps`). With a route (``/grids/{code}/patrol-route``) the map adds the route
line with direction arrows, numbered stops and a printable A4 stop list; with a patrol, its track.
Controls: layers, legend, scale, fullscreen, my location, print. Every text is HTML-escaped and
protected from folium's second Jinja pass (see :mod:`maps.elements`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import folium
from shapely.geometry import shape

from maps.assets import AssetMode, attach_assets
from maps.base_layers import add_panes, base_layer, boundary_layer, line_kind
from maps.basemaps import OSM_TILES, BaseMapOptions, online_base_maps
from maps.caselayer import CaseLayer, CaseScript
from maps.controls import SAMPLE_NOTICE, ButtonHelper, Fullscreen, Locate, Notice, PrintButton
from maps.elements import (
    Attribution,
    LayerRegistry,
    MapTitle,
    PageFigure,
    RawHtml,
    ScaleBar,
    clean_feature,
    jinja_literal,
    stylesheet,
)
from maps.legend import Legend, LegendEntry, LegendSection, base_section, category_entry
from maps.printlist import PRINT_CSS, stop_list_section
from maps.route_layers import route_layers

__all__ = ["OSM_TILES", "CategoryStyle", "PatrolMapData", "build_patrol_map", "render_patrol_map"]
OVERDUE_RED = "#d00000"
DESCRIPTION_CHARS = 120
CASE_GEOMETRIES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CategoryStyle:
    """How a case category (问题类别) is drawn: ``color`` ``#rrggbb``, ``symbol`` a short glyph."""

    code: str
    label_zh: str
    label_en: str
    color: str
    symbol: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"category code must match {_CODE.pattern}: {self.code!r}")
        if not _HEX.match(self.color):
            raise ValueError(f"category colour must be #rrggbb: {self.color!r}")

    @property
    def layer_name(self) -> str:
        """Layer-control name: Chinese with the English beside."""
        return f"{self.label_zh} {self.label_en}"


@dataclass(frozen=True)
class PatrolMapData:
    """Everything a grid patrol map (巡查图) shows, as GeoJSON dicts in EPSG:4326."""

    title: str
    grid: dict[str, Any]
    village: dict[str, Any]
    neighbours: dict[str, Any]
    lines: dict[str, Any]
    cases: dict[str, Any]
    categories: list[CategoryStyle]
    attribution: str
    route: dict[str, Any] | None = None  # the patrol-route FeatureCollection
    patrol: dict[str, Any] | None = None  # the latest patrol Feature (staff only)
    extras: dict[int, dict[str, Any]] = field(default_factory=dict)  # case id → thumb_url, nav
    basemaps: BaseMapOptions = field(default_factory=BaseMapOptions)
    notice: str = SAMPLE_NOTICE


def render_patrol_map(data: PatrolMapData, *, assets: AssetMode) -> str:
    """The patrol map as a full HTML document (巡查图页面)."""
    return str(build_patrol_map(data, assets=assets).get_root().render())


def build_patrol_map(
    data: PatrolMapData, *, assets: AssetMode, extra_layers: dict[str, Any] | None = None
) -> folium.Map:
    """The patrol map as a ``folium.Map``, before rendering.

    ``extra_layers`` (key → folium layer, e.g. a later patrol-route FeatureGroup) are added
    above the cases, before the layer control, and exposed as ``villageMap.layers[key]``;
    controls that are not layers may simply be added to the returned map.
    Raises :class:`maps.assets.AssetsMissing` when the npm assets are not installed.
    """
    west, south, east, north = shape(data.grid["geometry"]).bounds
    fmap, figure = _empty_map(data.title, ((south + north) / 2, (west + east) / 2), assets)
    online, switcher = online_base_maps(data.basemaps)
    layers: dict[str, Any] = {
        "base": base_layer([*data.neighbours.get("features", []), _own_village(data)], _lines(data)),
        **online,
        "village": boundary_layer(data.village, "village", "村界 Village boundary"),
        "grid": boundary_layer(data.grid, "grid", "网格边界 Grid boundary"),
    }
    groups, case_layers, cases_section = _case_layers(data)
    route = route_layers(data.route, data.patrol, data.extras)
    extras = route.layers | (extra_layers or {})
    for layer in [*layers.values(), *groups.values(), *extras.values()]:
        layer.add_to(fmap)
    layers |= extras
    _controls(fmap, data, route.controls, printable=data.route is not None)
    sections = [s for s in (cases_section, route.section()) if s is not None]
    Legend([*sections, base_section({line_kind(f) for f in _lines(data)})]).add_to(fmap)
    Attribution(data.attribution).add_to(fmap)
    MapTitle(data.title).add_to(fmap)
    Notice(data.notice).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if switcher is not None:
        switcher.add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]], padding=(24, 24))
    LayerRegistry({"layers": layers, "groups": groups, "cases": case_layers}).add_to(fmap)
    if data.route is not None:
        figure.header.add_child(RawHtml(f"<style>{PRINT_CSS}</style>"), name="print_css")
        figure.html.add_child(RawHtml(stop_list_section(data.title, data.route)), name="print_list")
    return fmap


def _empty_map(title: str, centre: tuple[float, float], assets: AssetMode) -> tuple[folium.Map, PageFigure]:
    """A map without layers on its page (空白地图): assets, stylesheet, panes and the page scripts."""
    fmap = folium.Map(location=list(centre), zoom_start=15, tiles=None, maxZoom=20)
    figure = PageFigure(title)
    figure.add_child(fmap)
    attach_assets(fmap, assets)
    figure.header.add_child(stylesheet(), name="villagemap_css")
    add_panes(fmap)
    ButtonHelper().add_to(fmap)
    CaseScript().add_to(fmap)
    return fmap, figure


def _controls(fmap: folium.Map, data: PatrolMapData, more: list[Any], *, printable: bool) -> None:
    """Scale, fullscreen, my location, print (with a route), route arrows."""
    ScaleBar().add_to(fmap)
    Fullscreen().add_to(fmap)
    Locate(gcj02=data.basemaps.gcj02).add_to(fmap)
    if printable:
        PrintButton().add_to(fmap)
    for control in more:
        control.add_to(fmap)


def _own_village(data: PatrolMapData) -> dict[str, Any]:
    """The grid's village as a base-map region (defaults to level "village")."""
    props = {"level": "village", **(data.village.get("properties") or {})}
    return {**data.village, "properties": props}


def _lines(data: PatrolMapData) -> list[dict[str, Any]]:
    return [f for f in data.lines.get("features", []) if f.get("geometry")]


# ---- cases (问题) -------------------------------------------------------------------------


def _case_layers(
    data: PatrolMapData,
) -> tuple[dict[str, Any], dict[str, Any], LegendSection]:
    """One FeatureGroup holding one case layer per category present, in legend order."""
    styles = {style.code: style for style in data.categories}
    seqs = _stop_seq(data)
    by_code: dict[str, list[dict[str, Any]]] = {}
    for feature in data.cases.get("features", []):
        props = feature.get("properties") or {}
        code = str(props.get("category", ""))
        style = styles[code] if code in styles else styles.setdefault(code, _fallback_style(code, props))
        by_code.setdefault(code, []).append(_case_feature(feature, style, data.extras, seqs))
    groups: dict[str, Any] = {}
    layers: dict[str, Any] = {}
    entries: list[LegendEntry] = []
    for code in sorted(by_code, key=list(styles).index):
        style, features = styles[code], by_code[code]
        groups[style.code] = folium.FeatureGroup(name=jinja_literal(style.layer_name))
        statuses = {f["properties"]["status"]: f["properties"].pop("status_label", "") for f in features}
        colours = {"code": style.code, "color": style.color, "zh": style.label_zh, "en": style.label_en}
        layers[style.code] = CaseLayer(features, colours | {"statuses": statuses}).add_to(groups[style.code])
        kinds = [_kind(f["geometry"]["type"]) for f in features]
        entries.append(category_entry(style.label_zh, style.label_en, style.color, style.symbol, kinds))
    overdue = sum(f["properties"]["overdue"] for fs in by_code.values() for f in fs)
    entries.append(LegendEntry("已逾期", "overdue", "point", "#9e9e9e", OVERDUE_RED, overdue))
    return groups, layers, LegendSection("问题 Open cases", tuple(entries))


def _fallback_style(code: str, props: dict[str, Any]) -> CategoryStyle:
    """A grey style for a category missing from ``categories`` (未知类别)."""
    label = str(props.get("category_label") or code or "其他")
    safe = re.sub(r"[^a-z0-9_]", "_", code.lower())
    return CategoryStyle(f"x_{safe}", label, code or "other", "#7f7f7f", "●")


def _case_feature(
    feature: dict[str, Any], style: CategoryStyle, extras: dict[int, dict[str, Any]], seqs: dict[int, int]
) -> dict[str, Any]:
    """A case reduced to what its popup needs (compact: the page's script builds the popup)."""
    props = feature.get("properties") or {}
    geometry = feature.get("geometry") or {}
    if geometry.get("type") not in CASE_GEOMETRIES:
        raise ValueError(f"case {props.get('id')!r}: cannot draw geometry {geometry.get('type')!r}")
    case_id = int(props.get("id") or 0)
    extra = extras.get(case_id, {})
    text = str(props.get("description") or "")
    keep = {
        "id": props.get("id"),
        "code": str(props.get("code", "")),
        "category": style.code,
        "status": str(props.get("status", "")),
        "status_label": str(props.get("status_label") or ""),
        "deadline": None if props.get("deadline") is None else str(props["deadline"]),
        "overdue": bool(props.get("overdue")),
        "title": str(props.get("title") or ""),
        "desc": text if len(text) <= DESCRIPTION_CHARS else text[:DESCRIPTION_CHARS] + "…",
        "seq": seqs.get(case_id),
        "thumb": extra.get("thumb_url"),
        "nav": extra.get("at"),
    }
    return clean_feature(geometry, {k: v for k, v in keep.items() if v not in (None, "")}, fid=props.get("id"))


def _stop_seq(data: PatrolMapData) -> dict[int, int]:
    """Case id → its place in the route (巡查顺序)."""
    features = (data.route or {}).get("features") or []
    stops = [f["properties"] for f in features if "seq" in (f.get("properties") or {})]
    return {int(p["case_id"]): int(p["seq"]) for p in stops}


def _kind(geometry_type: str) -> str:
    """point, line or polygon (几何类别) for a GeoJSON geometry type."""
    if geometry_type.endswith("Point"):
        return "point"
    return "line" if geometry_type.endswith("LineString") else "polygon"
