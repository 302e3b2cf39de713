"""The grid patrol map (网格巡查图): a grid's open cases over VillageMap's own offline base map.

Input is plain GeoJSON (RFC 7946, [lon, lat]); output is one HTML page. No database, no network:
the default background is drawn from VillageMap's own layers (regions, roads, ditches, rivers,
names), and OpenStreetMap is only a second, unselected base layer. Every text is HTML-escaped and
protected from folium's second Jinja pass (see :mod:`maps.elements`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import folium
from folium.utilities import JsCode
from shapely.geometry import shape

from maps.assets import AssetMode, attach_assets
from maps.elements import (
    Attribution,
    LayerRegistry,
    MapTitle,
    PageFigure,
    ScaleBar,
    StyleFunction,
    add_panes,
    base_layer,
    boundary_layer,
    clean_feature,
    jinja_literal,
    line_kind,
    styled_geojson,
    stylesheet,
)
from maps.legend import Legend, LegendEntry, LegendSection, base_section, category_entry

OVERDUE_RED = "#d00000"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
CASE_GEOMETRIES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")

_CASE_JS = JsCode(
    """function (feature, layer) {
        var caseId = String(feature.properties.id);
        layer.bindPopup(feature.properties.popup_html, {maxWidth: 320, className: "vm-popup-box"});
        var tag = function (part) {
            if (part.getElement && part.getElement()) {
                part.getElement().setAttribute("data-case-id", caseId);
            } else if (part.eachLayer) {
                part.eachLayer(tag);
            }
        };
        layer.on("add", function () { tag(layer); });
    }"""
)


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
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=15, tiles=None, maxZoom=20)
    figure = PageFigure(data.title)
    figure.add_child(fmap)
    attach_assets(fmap, assets)
    figure.header.add_child(stylesheet(), name="villagemap_css")
    add_panes(fmap)
    layers = {
        "base": base_layer([*data.neighbours.get("features", []), _own_village(data)], _lines(data)),
        "osm": _osm_layer(),
        "village": boundary_layer(data.village, "village", "村界 Village boundary"),
        "grid": boundary_layer(data.grid, "grid", "网格边界 Grid boundary"),
    }
    groups, case_layers, cases_section = _case_layers(data)
    extras = extra_layers or {}
    for layer in [*layers.values(), *groups.values(), *extras.values()]:
        layer.add_to(fmap)
    layers |= extras
    ScaleBar().add_to(fmap)
    Legend([cases_section, base_section({line_kind(f) for f in _lines(data)})]).add_to(fmap)
    Attribution(data.attribution).add_to(fmap)
    MapTitle(data.title).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]], padding=(24, 24))
    LayerRegistry({"layers": layers, "groups": groups, "cases": case_layers}).add_to(fmap)
    return fmap


def _osm_layer() -> folium.TileLayer:
    """OpenStreetMap as the second base layer (在线底图): not shown, so offline pages ask nothing."""
    return folium.TileLayer(
        OSM_TILES,
        attr=OSM_ATTRIBUTION,
        name="OpenStreetMap 在线底图 (online)",
        overlay=False,
        show=False,
        max_zoom=19,
        max_native_zoom=19,
    )


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
    """One FeatureGroup holding one GeoJson per category present, in legend order."""
    styles = {style.code: style for style in data.categories}
    by_code: dict[str, list[dict[str, Any]]] = {}
    for feature in data.cases.get("features", []):
        props = feature.get("properties") or {}
        code = str(props.get("category", ""))
        style = styles[code] if code in styles else styles.setdefault(code, _fallback_style(code, props))
        by_code.setdefault(code, []).append(_case_feature(feature, style))
    groups: dict[str, Any] = {}
    layers: dict[str, Any] = {}
    entries: list[LegendEntry] = []
    for code in sorted(by_code, key=list(styles).index):
        style, features = styles[code], by_code[code]
        groups[style.code] = folium.FeatureGroup(name=jinja_literal(style.layer_name))
        layers[style.code] = styled_geojson(
            features, _case_style(style), control=False,
            marker=folium.CircleMarker(radius=7), on_each_feature=_CASE_JS,
        ).add_to(groups[style.code])  # fmt: skip
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


def _case_feature(feature: dict[str, Any], style: CategoryStyle) -> dict[str, Any]:
    """A case reduced to what the page needs, with its escaped popup HTML (弹窗)."""
    props = feature.get("properties") or {}
    geometry = feature.get("geometry") or {}
    if geometry.get("type") not in CASE_GEOMETRIES:
        raise ValueError(f"case {props.get('id')!r}: cannot draw geometry {geometry.get('type')!r}")
    keep = {
        "id": props.get("id"),
        "code": str(props.get("code", "")),
        "category": style.code,
        "status": str(props.get("status", "")),
        "deadline": None if props.get("deadline") is None else str(props["deadline"]),
        "overdue": bool(props.get("overdue")),
        "popup_html": _popup_html(props, style),
    }
    return clean_feature(geometry, keep, fid=props.get("id"))


def _popup_html(props: dict[str, Any], style: CategoryStyle) -> str:
    """Popup body: code, category, status, deadline, overdue in red; all text escaped."""
    e = html.escape
    category = str(props.get("category_label") or style.label_zh)
    status_en = str(props.get("status") or "").replace("_", " ")
    status = f"{props.get('status_label') or ''} {status_en}".strip()
    deadline = e(str(props.get("deadline") or "未设定 none"))
    if props.get("overdue"):
        deadline += ' <span class="vm-overdue-tag">已逾期 overdue</span>'
    rows = [
        ("编号 Code", e(str(props.get("code", "")))),
        ("类别 Category", f"{e(category)} <small>{e(style.label_en)}</small>"),
        ("状态 Status", e(status)),
        ("整改时限 Deadline", deadline),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    title = e(str(props.get("title") or category))
    text = str(props.get("description") or "")
    text = text if len(text) <= 300 else text[:300] + "…"
    desc = f'<p class="vm-popup-desc">{e(text)}</p>' if text else ""
    head = f'<div class="vm-popup-title">{title}</div>'
    return f'<div class="vm-popup">{head}<table>{table}</table>{desc}</div>'


def _case_style(style: CategoryStyle) -> StyleFunction:
    """Leaflet path style of a case: category colour; overdue ones red-ringed and thicker."""

    def styler(feature: dict[str, Any]) -> dict[str, Any]:
        kind = _kind(feature["geometry"]["type"])
        overdue = bool(feature["properties"]["overdue"])
        classes = f"vm-case vm-cat-{style.code}" + (" vm-overdue" if overdue else "")
        out: dict[str, Any] = {"className": classes, "color": style.color, "opacity": 0.95}
        if kind == "point":
            out |= {"fill": True, "fillColor": style.color, "fillOpacity": 0.9}
            out |= {"radius": 9 if overdue else 7}
            out |= {"color": OVERDUE_RED if overdue else "#ffffff", "weight": 3 if overdue else 2}
        elif kind == "line":
            out |= {"weight": 7, "dashArray": "12 6"} if overdue else {"weight": 4}
        else:
            out |= {"fill": True, "fillColor": style.color, "fillOpacity": 0.35}
            out |= {"color": OVERDUE_RED if overdue else style.color, "weight": 4 if overdue else 2}
        return out

    return styler


def _kind(geometry_type: str) -> str:
    """point, line or polygon (几何类别) for a GeoJSON geometry type."""
    if geometry_type.endswith("Point"):
        return "point"
    return "line" if geometry_type.endswith("LineString") else "polygon"
