"""Case layers drawn in the browser (问题图层): compact GeoJSON in, styles and popups made by script.

A map of 2,000 open cases must stay small and quick (bench/maps.py), so a case carries only what
its popup needs — id, code, category, status, deadline, overdue, title, a short description, a
thumbnail and a navigation point — and the page's own script (:class:`CaseScript`) styles it and
builds its popup when it is opened, with ``textContent`` (nothing from the data is parsed as HTML).
Navigation links convert the WGS84 point to GCJ-02 (高德) and BD-09 (百度) with the published
formulas, the same as :mod:`gis.crs`.
"""

from __future__ import annotations

import json
from typing import Any

from branca.element import MacroElement

from folium.template import Template

from maps.elements import literal_json

CASE_JS = """
window.vmCaseStyle = function (f, c) {
    var p = f.properties, t = f.geometry.type, late = !!p.overdue, red = "#d00000";
    var s = {className: "vm-case vm-cat-" + c.code + (late ? " vm-overdue" : ""), color: c.color, opacity: 0.95};
    if (/Point$/.test(t)) {
        s.fill = true; s.fillColor = c.color; s.fillOpacity = 0.9;
        s.radius = late ? 9 : 7; s.color = late ? red : "#ffffff"; s.weight = late ? 3 : 2;
    } else if (/LineString$/.test(t)) {
        s.weight = late ? 7 : 4; if (late) { s.dashArray = "12 6"; }
    } else {
        s.fill = true; s.fillColor = c.color; s.fillOpacity = 0.35;
        s.color = late ? red : c.color; s.weight = late ? 4 : 2;
    }
    return s;
};
function vmEl(tag, cls, text, parent) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== undefined && text !== null) { el.textContent = String(text); }
    if (parent) { parent.appendChild(el); }
    return el;
}
window.vmNavLinks = function (nav, name, parent) {
    if (!nav) { return; }
    var g = window.vmToGcj02(nav[0], nav[1]), b = window.vmToBd09(g[0], g[1]);
    var f = function (v) { return v.toFixed(7); };
    var q = encodeURIComponent(name);
    var links = [
        ["高德地图", "amap", "https://uri.amap.com/marker?position=" + f(g[0]) + "," + f(g[1]) + "&name=" + q +
            "&src=villagemap&coordinate=gaode&callnative=1"],
        ["百度地图", "baidu", "https://api.map.baidu.com/marker?location=" + f(b[1]) + "," + f(b[0]) + "&title=" + q +
            "&content=" + q + "&output=html&coord_type=bd09ll&src=webapp.villagemap"],
        ["手机地图", "geo", "geo:" + f(nav[1]) + "," + f(nav[0]) + "?q=" + f(nav[1]) + "," + f(nav[0]) + "(" + q + ")"]
    ];
    var box = vmEl("div", "vm-nav", "导航 Navigate: ", parent);
    links.forEach(function (l) {
        var a = vmEl("a", "vm-nav-" + l[1], l[0], box);
        a.href = l[2]; a.target = "_blank"; a.rel = "noopener";
    });
};
window.vmCasePopup = function (p, c) {
    var box = vmEl("div", "vm-popup");
    vmEl("div", "vm-popup-title", p.title || c.zh, box);
    var table = vmEl("table", "", null, box);
    function row(k, v) { var tr = vmEl("tr", "", null, table); vmEl("th", "", k, tr); return vmEl("td", "", v, tr); }
    if (p.seq) { row("巡查顺序 Stop", "第 " + p.seq + " 站"); }
    row("编号 Code", p.code);
    var cat = row("类别 Category", c.zh + " "); vmEl("small", "", c.en, cat);
    row("状态 Status", ((p.status_label || "") + " " + String(p.status || "").replace(/_/g, " ")).trim());
    var due = row("整改时限 Deadline", p.deadline || "未设定 none");
    if (p.overdue) {
        due.appendChild(document.createTextNode(" "));
        vmEl("span", "vm-overdue-tag", "已逾期 overdue", due);
    }
    if (p.desc) { vmEl("p", "vm-popup-desc", p.desc, box); }
    if (p.thumb) {
        var img = vmEl("img", "", null, vmEl("div", "vm-thumb", null, box));
        img.src = p.thumb; img.alt = "现场照片 photo";
    }
    window.vmNavLinks(p.nav, p.code, box);
    return box;
};
"""


class CaseScript(MacroElement):
    """The page's case script (问题图层脚本): styles, popups, navigation links. Add it once, early."""

    _template = Template("{% macro script(this, kwargs) %}" + CASE_JS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CaseScript"


#: Columns of a point case row (紧凑行), after its lon and lat.
ROW_KEYS = ("id", "code", "status", "deadline", "overdue", "title", "desc", "seq", "thumb", "nav")


def compact_json(value: Any) -> str:
    """JSON for a ``<script>``: UTF-8 (not ``\\u`` escapes, half the bytes of Chinese), with ``<``,
    ``>``, ``&`` and ``'`` escaped so no text can end the script. Strings must already have passed
    :func:`maps.elements.literal_json` (they go through folium's second Jinja pass)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class CaseLayer(MacroElement):
    """One category's cases as one ``L.geoJson`` (named ``geo_json_…``), added to its parent group.

    Point cases travel as rows ``[lon, lat, *ROW_KEYS]`` (7 decimals, about 1 cm), lines and
    polygons as GeoJSON features; the status labels once per layer.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (c, data) {
            var layer = L.geoJson(null, {
                style: function (f) { return window.vmCaseStyle(f, c); },
                pointToLayer: function (f, latlng) { return L.circleMarker(latlng, window.vmCaseStyle(f, c)); },
                onEachFeature: function (f, l) {
                    f.properties.status_label = c.statuses[f.properties.status] || "";
                    l.bindPopup(function () { return window.vmCasePopup(f.properties, c); },
                                {maxWidth: 320, className: "vm-popup-box"});
                    var id = String(f.properties.id), tag = function (part) {
                        var el = part.getElement && part.getElement();
                        if (el) { el.setAttribute("data-case-id", id); }
                        else if (part.eachLayer) { part.eachLayer(tag); }
                    };
                    l.on("add", function () { tag(l); });
                }
            });
            var points = data.rows.map(function (r) {
                var p = {};
                data.keys.forEach(function (k, i) { if (r[i + 2] !== null) { p[k] = r[i + 2]; } });
                return {type: "Feature", id: p.id, geometry: {type: "Point", coordinates: [r[0], r[1]]}, properties: p};
            });
            layer.addData({type: "FeatureCollection", features: points.concat(data.shapes)});
            return layer;
        })({{ this.style_json }}, {{ this.data_json }});
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, features: list[dict[str, Any]], style: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GeoJson"
        rows, shapes = [], []
        for f in features:
            if f["geometry"]["type"] == "Point":
                lon, lat = f["geometry"]["coordinates"][:2]
                props = f["properties"]
                rows.append([round(lon, 7), round(lat, 7), *(props.get(k) for k in ROW_KEYS)])
            else:
                shapes.append(f)
        self.count = len(features)
        self.style_json = compact_json(literal_json(style))
        self.data_json = compact_json({"keys": list(ROW_KEYS), "rows": rows, "shapes": shapes})
