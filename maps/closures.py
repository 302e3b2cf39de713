"""The close-out map (结案核查图) for inspectors: closed cases, where each was closed out from, a line
from that position to the case with its distance, the photo; close-outs near the radius limit
(≥ 80 % of the category's radius) stand out in red.

GeoJSON in (from :func:`gis.maps_layers.closure_layers`), HTML out; one GeoJson layer per part.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import folium
from folium.utilities import JsCode

from maps.assets import AssetMode
from maps.elements import clean_feature, jinja_literal, styled_geojson
from maps.frame import AreaFrame, close_area_map, open_area_map, render
from maps.legend import LegendEntry, LegendSection
from maps.popups import thumbnail

NEAR_RED = "#d00000"
CASE_COLOUR = "#6a6a6a"
CLOSEOUT_COLOUR = "#1a56db"
_e = html.escape
_POINT_JS = JsCode(
    """function (feature, latlng) {
        var p = feature.properties;
        return L.circleMarker(latlng, {radius: p.kind === "case" ? 8 : (p.near_limit ? 7 : 5)});
    }"""
)
_POPUP_JS = JsCode(
    """function (feature, layer) {
        if (feature.properties.popup_html) {
            layer.bindPopup(feature.properties.popup_html, {maxWidth: 320, className: "vm-popup-box"});
        }
        var id = String(feature.properties.id), kind = feature.properties.kind;
        layer.on("add", function () {
            var el = layer.getElement && layer.getElement();
            if (el) { el.setAttribute("data-closure-id", id); el.setAttribute("data-kind", kind); }
        });
    }"""
)


@dataclass(frozen=True)
class ClosureMapData:
    """What the close-out map shows (结案图数据): the frame and the features from PostGIS."""

    frame: AreaFrame
    features: list[dict[str, Any]]
    thumbs: dict[int, str] = field(default_factory=dict)  # case id → thumbnail URL or data: URI


def render_closures_map(data: ClosureMapData, *, assets: AssetMode) -> str:
    """The close-out map as a full HTML document."""
    m = open_area_map(data.frame, assets)
    parts: dict[str, list[dict[str, Any]]] = {"case": [], "link": [], "closeout": []}
    for f in data.features:
        parts[f["properties"]["kind"]].append(_clean(f, data.thumbs))
    near = sum(1 for f in data.features if f["properties"]["kind"] == "case" and f["properties"]["near_limit"])
    names = {
        "case": "结案问题 Closed cases",
        "link": "距离连线 Distance lines",
        "closeout": "结案位置 Close-out positions",
    }
    for kind in ("case", "link", "closeout"):
        if not parts[kind]:
            continue
        group = folium.FeatureGroup(name=jinja_literal(f"{names[kind]} ({len(parts[kind])})"))
        styled_geojson(parts[kind], _style, on_each_feature=_POPUP_JS, point_to_layer=_POINT_JS).add_to(group)
        group.add_to(m.fmap)
        m.layers[kind] = group
    closed = len(parts["case"])
    entries = (
        LegendEntry("结案问题", "closed case", "polygon", "#bdbdbd", CASE_COLOUR, closed),
        LegendEntry("结案位置（核查员）", "close-out position", "point", CLOSEOUT_COLOUR, "#ffffff", closed),
        LegendEntry("位置与问题的连线", "line to the case", "dash", stroke=CLOSEOUT_COLOUR),
        LegendEntry("接近限距（≥80%）", "near the radius limit", "point", NEAR_RED, "#ffffff", near),
    )
    fmap = close_area_map(m, data.frame, [LegendSection("结案核查 Close-outs", entries)])
    return render(fmap)


def _clean(feature: dict[str, Any], thumbs: dict[int, str]) -> dict[str, Any]:
    p = feature["properties"]
    keep = {"id": p["id"], "kind": p["kind"], "near_limit": bool(p.get("near_limit"))}
    if p["kind"] in ("case", "closeout"):
        keep["popup_html"] = closure_popup(p, thumbs.get(int(p["id"])))
    return clean_feature(feature["geometry"], keep)


def _style(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    near = bool(p["near_limit"])
    colour = NEAR_RED if near else (CASE_COLOUR if p["kind"] == "case" else CLOSEOUT_COLOUR)
    out: dict[str, Any] = {"color": colour, "opacity": 0.95, "className": f"vm-closure-{p['kind']}"}
    if p["kind"] == "case":
        return out | {"weight": 3 if near else 2, "fill": True, "fillColor": colour, "fillOpacity": 0.3}
    if p["kind"] == "link":
        return out | {"weight": 3 if near else 2, "dashArray": "4 4"}
    return out | {"weight": 2, "fill": True, "fillColor": colour, "fillOpacity": 0.9}


def closure_popup(p: dict[str, Any], thumb: str | None) -> str:
    """Close-out popup: case, when, by whom, distance against the radius, the photo."""
    distance = float(p.get("distance_m") or 0)
    radius = float(p.get("radius_m") or 0)
    tag = ' <span class="vm-overdue-tag">接近限距 near the limit</span>' if p.get("near_limit") else ""
    rows = [
        ("编号 Code", _e(str(p.get("code", "")))),
        ("类别 Category", _e(str(p.get("category_label") or p.get("category") or ""))),
        ("结案时间 Closed", _e(str(p.get("closed_at") or "")[:16].replace("T", " "))),
        ("核查员 Inspector", _e(str(p.get("inspector") or ""))),
        ("距离 Distance", f"{distance:.1f} 米 / 限 {radius:.0f} 米{tag}"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    head = '<div class="vm-popup-title">结案核查 Close-out</div>'
    return f'<div class="vm-popup">{head}<table>{table}</table>{thumbnail(thumb)}</div>'
