"""The overview map (总览图): villages coloured by on-time closure rate (按期结案率), open cases
clustered (leaflet.markercluster), and a heatmap of them to switch on (leaflet.heat).

GeoJSON in (from :func:`gis.maps_layers.overview_layers`), HTML out. The cluster and heat layers
are small folium ``Layer`` elements of our own over the npm plugins, served or inlined like Leaflet.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import folium
from folium.template import Template
from folium.utilities import JsCode

from maps.assets import AssetMode
from maps.caselayer import CaseScript, compact_json
from maps.elements import clean_feature, jinja_literal, literal_json, styled_geojson
from maps.frame import AreaFrame, close_area_map, open_area_map, render
from maps.legend import LegendEntry, LegendSection

#: On-time closure rate classes (按期结案率分级), from worst to best, and "no closed cases".
RATE_CLASSES = ((60.0, "#d7301f", "< 60%"), (75.0, "#fc8d59", "60–75%"), (90.0, "#fdcc8a", "75–90%"),
                (101.0, "#1a9850", "≥ 90%"))  # fmt: skip
NO_DATA = "#d9d9d9"
PLUGINS = ("leaflet.markercluster", "leaflet.heat")
_e = html.escape
_VILLAGE_JS = JsCode(
    """function (feature, layer) {
        layer.bindPopup(feature.properties.popup_html, {className: "vm-popup-box"});
        layer.bindTooltip(feature.properties.name_html, {sticky: true});
        var code = String(feature.properties.code);
        layer.on("add", function () {
            var el = layer.getElement && layer.getElement();
            if (el) { el.setAttribute("data-village", code); }
        });
    }"""
)


class ClusterLayer(folium.map.Layer):
    """Open cases as circle markers in a ``L.markerClusterGroup`` (聚合显示), coloured by category."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojson }});
        (function (group, data, cats) {
            var other = {color: "#777777", zh: "其他", en: "other"};
            var points = L.geoJSON(data, {
                pointToLayer: function (f, latlng) {
                    return L.circleMarker(latlng, {radius: 6, weight: 2, fillOpacity: 0.9,
                        color: f.properties.overdue ? "#d00000" : "#ffffff",
                        fillColor: (cats[f.properties.category] || other).color, className: "vm-open-case"});
                },
                onEachFeature: function (f, l) {
                    var c = cats[f.properties.category] || other;
                    l.bindPopup(function () { return window.vmCasePopup(f.properties, c); },
                                {maxWidth: 320, className: "vm-popup-box"});
                }
            });
            group.addLayers(points.getLayers());
        })({{ this.get_name() }}, {{ this.data_json }}, {{ this.cats_json }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], cats: dict[str, dict[str, str]], name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ClusterLayer"
        self.data_json = compact_json(literal_json(data))
        self.cats_json = compact_json(literal_json(cats))
        self.options = {"showCoverageOnHover": False, "maxClusterRadius": 50, "chunkedLoading": True}


class HeatLayer(folium.map.Layer):
    """A heatmap of points (热力图, ``L.heatLayer``); off until switched on in the layer control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.heatLayer({{ this.points|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, points: list[list[float]], name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "HeatLayer"
        self.points = points
        self.options = {"radius": 22, "blur": 18, "maxZoom": 15, "minOpacity": 0.3}


@dataclass(frozen=True)
class OverviewMapData:
    """What the overview map shows (总览图数据): frame, villages with rates, open cases, colours."""

    frame: AreaFrame
    layers: dict[str, Any]
    categories: dict[str, dict[str, str]]  # code → color, zh, en


def rate_colour(rate: float | None) -> str:
    """The choropleth colour of an on-time closure rate in % (None: no closed case yet)."""
    if rate is None:
        return NO_DATA
    return next(colour for bound, colour, _label in RATE_CLASSES if rate < bound)


def render_overview_map(data: OverviewMapData, *, assets: AssetMode) -> str:
    """The overview map as a full HTML document."""
    m = open_area_map(data.frame, assets, PLUGINS)
    CaseScript().add_to(m.fmap)
    villages = [_village(f) for f in data.layers["villages"]["features"]]
    group = folium.FeatureGroup(name=jinja_literal("按期结案率 On-time closure rate"))
    styled_geojson(villages, _village_style, on_each_feature=_VILLAGE_JS).add_to(group)
    group.add_to(m.fmap)
    m.layers["villages"] = group
    cases = data.layers["cases"]["features"]
    collection = {"type": "FeatureCollection", "features": [_case(f) for f in cases]}
    name = jinja_literal(f"未结案问题（聚合）Open cases ({len(cases)})")
    cluster = ClusterLayer(collection, data.categories, name)
    cluster.add_to(m.fmap)
    heat_points = [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0], 1.0] for f in cases]
    heat = HeatLayer(heat_points, jinja_literal("热力图 Heatmap"))
    heat.add_to(m.fmap)
    m.layers |= {"cluster": cluster, "heat": heat}
    rates = [LegendEntry(f"按期结案率 {label}", "on-time rate", "polygon", colour, "#666666")
             for _bound, colour, label in RATE_CLASSES]  # fmt: skip
    rates.append(LegendEntry("暂无结案", "no closed case", "polygon", NO_DATA, "#666666"))
    rates.append(LegendEntry("未结案问题", "open case (cluster)", "point", "#777777", "#ffffff", len(cases)))
    fmap = close_area_map(m, data.frame, [LegendSection("总览 Overview", tuple(rates))])
    return render(fmap)


def _village(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    rate = p.get("rate")
    shown = "—" if rate is None else f"{float(rate):.1f}%"
    rows = [("按期结案率 On-time", shown), ("已结案 Closed", str(p.get("closed", 0))),
            ("按期 On time", str(p.get("on_time", 0))), ("未结案 Open", str(p.get("open", 0))),
            ("逾期 Overdue", str(p.get("overdue", 0)))]  # fmt: skip
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    name = f"{_e(str(p.get('township') or ''))} {_e(str(p.get('name') or ''))}"
    popup = f'<div class="vm-popup"><div class="vm-popup-title">{name}</div><table>{table}</table></div>'
    keep = {"code": p["code"], "rate": rate, "name_html": f"{name} {shown}", "popup_html": popup}
    return clean_feature(feature["geometry"], keep)


def _village_style(feature: dict[str, Any]) -> dict[str, Any]:
    colour = rate_colour(feature["properties"]["rate"])
    return {"color": "#555555", "weight": 1, "fillColor": colour, "fillOpacity": 0.6, "className": "vm-village"}


def _case(feature: dict[str, Any]) -> dict[str, Any]:
    """A compact open case for the cluster: what its popup shows (built by the page's script)."""
    p = feature["properties"]
    keep = {
        "id": p["id"],
        "code": p["code"],
        "category": p["category"],
        "status": p["status"],
        "status_label": p.get("status_label"),
        "deadline": p.get("deadline"),
        "overdue": bool(p.get("overdue")),
    }
    coords = feature["geometry"]["coordinates"]
    geometry = {"type": "Point", "coordinates": [round(coords[0], 7), round(coords[1], 7)]}
    return {"type": "Feature", "geometry": geometry, "properties": {k: v for k, v in keep.items() if v is not None}}
