"""Patrol-route layers of the patrol map (巡查路线图层): the route with direction arrows, numbered
stops, and the latest patrol track. GeoJSON in (RFC 7946, as ``/grids/{code}/patrol-route`` and
``/patrols`` return it), Folium layers out: one GeoJson layer each, never a Marker per stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from branca.element import MacroElement

import folium
from folium.utilities import JsCode

from maps.controls import RouteArrows
from maps.elements import clean_feature, jinja_literal, styled_geojson
from maps.legend import LegendEntry, LegendSection
from maps.popups import metres, minutes, patrol_popup, stop_popup

ROUTE_BLUE = "#1a56db"
PATROL_GREEN = "#1b9e4b"
PATROL_GREY = "#7a7a7a"

_STOP_JS = JsCode(
    """function (feature, latlng) {
        var p = feature.properties;
        var icon = L.divIcon({
            className: "vm-stop" + (p.overdue ? " vm-stop-overdue" : ""),
            html: "<span>" + Number(p.seq) + "</span>",
            iconSize: [24, 30], iconAnchor: [12, 36], popupAnchor: [0, -34]
        });
        return L.marker(latlng, {icon: icon, zIndexOffset: 1000 + Number(p.seq)});
    }"""
)
_STOP_POPUP_JS = JsCode(
    """function (feature, layer) {
        layer.bindPopup(feature.properties.popup_html, {maxWidth: 320, className: "vm-popup-box"});
        layer.on("add", function () {
            var el = layer.getElement && layer.getElement();
            if (el) { el.setAttribute("data-stop-seq", String(feature.properties.seq)); }
        });
    }"""
)
_PATROL_JS = JsCode(
    """function (feature, layer) {
        layer.bindPopup(feature.properties.popup_html, {maxWidth: 320, className: "vm-popup-box"});
    }"""
)


@dataclass
class RouteLayers:
    """What the route adds to a patrol map: layers by key, legend rows, controls."""

    layers: dict[str, Any] = field(default_factory=dict)
    legend: list[LegendEntry] = field(default_factory=list)
    controls: list[MacroElement] = field(default_factory=list)

    def section(self) -> LegendSection | None:
        """The legend section, when there is a route or a patrol."""
        return LegendSection("巡查 Patrol", tuple(self.legend)) if self.legend else None


def route_layers(route: dict[str, Any] | None, patrol: dict[str, Any] | None, extras: dict[int, Any]) -> RouteLayers:
    """Route line (with arrows), numbered stops and the latest patrol, as Folium layers."""
    out = RouteLayers()
    features = (route or {}).get("features") or []
    line = next((f for f in features if (f.get("properties") or {}).get("kind") == "route"), None)
    stops = [f for f in features if f.get("geometry", {}).get("type") == "Point"]
    if line is not None:
        group = folium.FeatureGroup(name=jinja_literal(_route_name(route or {})))
        style = {"color": ROUTE_BLUE, "weight": 5, "opacity": 0.85, "className": "vm-route", "lineJoin": "round"}
        drawn = styled_geojson([clean_feature(line["geometry"], {"kind": "route"})], lambda _f: style,
                               interactive=False)  # fmt: skip
        drawn.add_to(group)
        out.layers["route"] = group
        out.controls.append(RouteArrows(drawn))
        out.legend.append(LegendEntry("巡查路线", _route_label(route or {}), "line", stroke=ROUTE_BLUE))
    if stops:
        group = folium.FeatureGroup(name=jinja_literal(f"巡查点 Stops ({len(stops)})"))
        styled_geojson([_stop(f, extras) for f in stops], lambda _f: {}, point_to_layer=_STOP_JS,
                       on_each_feature=_STOP_POPUP_JS).add_to(group)  # fmt: skip
        out.layers["stops"] = group
        out.legend.append(
            LegendEntry("巡查点（按顺序编号）", "stops in order", "point", ROUTE_BLUE, "#ffffff", len(stops))
        )
    if patrol is not None and patrol.get("geometry"):
        out.layers["patrol"] = _patrol_layer(patrol)
        colour = PATROL_GREEN if (patrol.get("properties") or {}).get("valid") else PATROL_GREY
        out.legend.append(LegendEntry("最近巡查轨迹", "latest patrol", "dash", stroke=colour))
    return out


def _route_name(route: dict[str, Any]) -> str:
    return f"巡查路线 Patrol route {metres(route.get('total_m'))}"


def _route_label(route: dict[str, Any]) -> str:
    mode = "步行" if route.get("mode") == "walk" else "骑行"
    way = "沿路网" if route.get("network") else "直线"
    return f"{metres(route.get('total_m'))}，{mode}约 {minutes(route.get('duration_s'))}（{way}）"


def _stop(feature: dict[str, Any], extras: dict[int, Any]) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    extra = extras.get(int(props.get("case_id") or 0), {})
    props |= {key: extra[key] for key in ("thumb_url", "nav") if key in extra}
    keep = {"seq": int(props.get("seq") or 0), "case_id": props.get("case_id"), "overdue": bool(props.get("overdue")),
            "code": str(props.get("code", "")), "popup_html": stop_popup(props)}  # fmt: skip
    return clean_feature(feature["geometry"], keep, fid=props.get("case_id"))


def _patrol_layer(patrol: dict[str, Any]) -> folium.FeatureGroup:
    props = patrol.get("properties") or {}
    colour = PATROL_GREEN if props.get("valid") else PATROL_GREY
    group = folium.FeatureGroup(name=jinja_literal("最近巡查轨迹 Latest patrol"))
    style = {"color": colour, "weight": 4, "opacity": 0.9, "dashArray": "6 6", "className": "vm-patrol"}
    feature = clean_feature(patrol["geometry"], {"popup_html": patrol_popup(props)})
    styled_geojson([feature], lambda _f: style, on_each_feature=_PATROL_JS).add_to(group)
    return group
