"""The offline base map (离线底图): VillageMap's own layers drawn under the overlays.

Regions, roads, lanes, canals, ditches, rivers and village names, each in a pane below Leaflet's
overlay pane, so a map is useful with no network and toggling layers never puts the background
above the cases. Names reach the page HTML-escaped and protected from folium's second Jinja pass
(:mod:`maps.elements`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import folium
from folium.map import CustomPane
from folium.utilities import JsCode
from shapely.geometry import shape

from maps.elements import by_property, clean_feature, feature_collection, styled_geojson

# pane → z-index, all below Leaflet's overlayPane (400): cases are never hidden or blocked
PANES = {"vmBase": 350, "vmBoundary": 380, "vmLabels": 390}
BOUNDARY_STYLES: dict[str, dict[str, Any]] = {
    "grid": {"color": "#e6550d", "weight": 3.5, "dashArray": "10 6", "fillOpacity": 0.06},
    "village": {"color": "#6a3d9a", "weight": 2, "dashArray": "10 6", "fill": False},
}
REGION_STYLES: dict[str, dict[str, Any]] = {
    "township": {"color": "#555555", "weight": 2.5, "dashArray": "8 4 2 4", "fill": False},
    "village": {"color": "#8a8a8a", "weight": 1.5, "dashArray": "6 4", "fillColor": "#fcfbf7"} | {"fillOpacity": 0.75},
    "grid": {"color": "#b0b0b0", "weight": 1, "dashArray": "2 4", "fill": False},
}
LINE_STYLES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "road": ("道路", "Road", {"color": "#c99a45", "weight": 4}),
    "lane": ("巷道", "Lane", {"color": "#b3aa98", "weight": 2}),
    "canal": ("渠道", "Canal", {"color": "#2f7fc8", "weight": 3}),
    "ditch": ("沟道", "Ditch", {"color": "#74b0e0", "weight": 2, "dashArray": "5 4"}),
    "river": ("河流", "River", {"color": "#4a90e2", "weight": 6, "opacity": 0.8}),
}
_LINE_TOOLTIP_JS = JsCode(
    """function (feature, layer) {
        if (feature.properties.name_html) {
            layer.bindTooltip(feature.properties.name_html, {sticky: true});
        }
    }"""
)
_LABEL_JS = JsCode(
    """function (feature, latlng) {
        var icon = L.divIcon({
            className: "vm-label vm-label-" + feature.properties.level,
            html: "<span>" + feature.properties.label_html + "</span>",
            iconSize: null
        });
        var options = {icon: icon, pane: "vmLabels", interactive: false, keyboard: false};
        return L.marker(latlng, options);
    }"""
)


def add_panes(folium_map: Any) -> None:
    """Create the base, boundary and label panes (图层窗格) on the map; call before layers."""
    for pane, z_index in PANES.items():
        CustomPane(pane, z_index=z_index, pointer_events=False).add_to(folium_map)


def boundary_layer(feature: dict[str, Any], level: str, name: str) -> Any:
    """A grid or village boundary overlay (边界) that never catches clicks."""
    style = {"fillColor": BOUNDARY_STYLES[level]["color"], **BOUNDARY_STYLES[level]}
    clean = clean_feature(feature["geometry"], {})
    return styled_geojson([clean], lambda _f: style, name=name, pane="vmBoundary", interactive=False)


def base_layer(
    regions: Iterable[dict[str, Any]],
    lines: Iterable[dict[str, Any]],
    name: str = "村庄底图 VillageMap base map",
) -> Any:
    """VillageMap's own background as a base layer (村庄底图), shown by default.

    ``regions``: Features with properties code, name, level (township/village/grid) and an
    optional ``label_point`` [lon, lat]; ``lines``: Features with properties kind, name.
    """
    group = folium.FeatureGroup(name=name, overlay=False)
    polygons, labels = _region_features(regions)
    strokes = [
        clean_feature(f["geometry"], {"kind": line_kind(f), "name_html": _escaped(f, "name")})
        for f in lines
        if f.get("geometry")
    ]
    opts = {"control": False, "pane": "vmBase"}
    if polygons:
        style = by_property("level", REGION_STYLES)
        styled_geojson(polygons, style, interactive=False, **opts).add_to(group)
    if strokes:
        style = by_property("kind", {kind: s[2] for kind, s in LINE_STYLES.items()})
        styled_geojson(strokes, style, on_each_feature=_LINE_TOOLTIP_JS, **opts).add_to(group)
    if labels:
        collection = feature_collection(labels)
        folium.GeoJson(collection, control=False, point_to_layer=_LABEL_JS).add_to(group)
    return group


def line_kind(feature: dict[str, Any]) -> str:
    """The base-map line kind (线类型) of a feature; unknown kinds draw as lanes."""
    kind = str((feature.get("properties") or {}).get("kind"))
    return kind if kind in LINE_STYLES else "lane"


def _escaped(feature: dict[str, Any], key: str) -> str:
    return html.escape(str((feature.get("properties") or {}).get(key) or ""))


def _region_features(
    regions: Iterable[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Region polygons (区划) and their name labels, each region code once."""
    polygons: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    seen: set[str] = set()
    for feature in regions:
        props = feature.get("properties") or {}
        code = str(props.get("code") or "")
        if not feature.get("geometry") or (code and code in seen):
            continue
        seen.add(code)
        level = str(props.get("level"))
        level = level if level in REGION_STYLES else "village"
        polygons.append(clean_feature(feature["geometry"], {"code": code, "level": level}))
        if props.get("name"):
            point = {"type": "Point", "coordinates": _label_point(feature)}
            labels.append(clean_feature(point, {"level": level, "label_html": _escaped(feature, "name")}))
    return polygons, labels


def _label_point(feature: dict[str, Any]) -> list[float]:
    """[lon, lat] of a name label: ``label_point`` when given, else a point inside the shape."""
    given = (feature.get("properties") or {}).get("label_point")
    if isinstance(given, list | tuple) and len(given) == 2:
        return [float(given[0]), float(given[1])]
    point = shape(feature["geometry"]).representative_point()
    return [point.x, point.y]
