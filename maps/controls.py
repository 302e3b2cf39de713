"""Small map controls written for VillageMap (地图控件), no plugins: fullscreen, my location, print,
the map notice, direction arrows along a route and base maps that live on another page.

Each follows folium's plugin pattern: a ``MacroElement`` whose template gets values through
``|tojson`` and names through ``get_name()``; labels are set with ``textContent``. Nothing here
makes a network request: "my location" asks the browser (``navigator.geolocation``, WGS84) and,
on a GCJ-02 page, shifts the position with the published GCJ-02 formula before drawing it.
"""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement

from folium.template import Template

from maps.elements import html_text, jinja_literal, literal_json

#: Shown on every map page: the public must not take the sample for an approved map (审图号).
SAMPLE_NOTICE = "示意图：区划与底图为样例数据，非审定地图（无审图号）/ Schematic: sample base data, not an approved map"

_BUTTON_JS = """
window.vmToGcj02 = (function () {
    function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
    function tLat(x, y) {
        var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
        r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
        r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
        return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    }
    function tLon(x, y) {
        var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
        r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
        r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
        return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    }
    return function (lon, lat) {
        if (outOfChina(lon, lat)) { return [lon, lat]; }
        var a = 6378245.0, ee = 0.00669342162296594323;
        var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
        var rad = lat / 180 * Math.PI, m = 1 - ee * Math.sin(rad) * Math.sin(rad), s = Math.sqrt(m);
        dLat = dLat * 180 / ((a * (1 - ee)) / (m * s) * Math.PI);
        dLon = dLon * 180 / (a / s * Math.cos(rad) * Math.PI);
        return [lon + dLon, lat + dLat];
    };
})();
window.vmToBd09 = function (lon, lat) {
    var k = Math.PI * 3000 / 180, z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * k);
    var t = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * k);
    return [z * Math.cos(t) + 0.0065, z * Math.sin(t) + 0.006];
};
var vmIcons = {
    fullscreen: '<path d="M3 8V3h5M13 3h5v5M18 13v5h-5M8 18H3v-5"/>',
    locate: '<circle cx="10.5" cy="10.5" r="5"/><path d="M10.5 1v4M10.5 16v4M1 10.5h4M16 10.5h4"/>',
    print: '<path d="M6 8V2h9v6M6 15H3V8h15v7h-3M6 12h9v7H6z"/>'
};
function vmButton(map, position, cls, icon, title, onClick) {
    var Control = L.Control.extend({
        options: {position: position},
        onAdd: function () {
            var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control vm-button " + cls);
            var a = L.DomUtil.create("a", "", bar);
            a.href = "#"; a.setAttribute("role", "button"); a.title = title; a.setAttribute("aria-label", title);
            a.innerHTML = '<svg viewBox="0 0 21 21" width="18" height="18" fill="none" stroke="#333" ' +
                'stroke-width="2" stroke-linejoin="round">' + vmIcons[icon] + "</svg>";
            L.DomEvent.on(a, "click", function (e) { L.DomEvent.stop(e); onClick(a); });
            L.DomEvent.disableClickPropagation(bar);
            return bar;
        }
    });
    return new Control().addTo(map);
}
"""


class ButtonHelper(MacroElement):
    """The page's shared script, once: ``vmButton`` (a Leaflet bar button with an icon) and the
    GCJ-02 / BD-09 forward formulas ``vmToGcj02``, ``vmToBd09`` (as :mod:`gis.crs`)."""

    _template = Template("{% macro script(this, kwargs) %}" + _BUTTON_JS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "ButtonHelper"


class Fullscreen(MacroElement):
    """全屏 / fullscreen: the Fullscreen API where there is one, a fixed full-window map otherwise."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var box = map.getContainer();
            vmButton(map, "topleft", "vm-fullscreen", "fullscreen", {{ this.title|tojson }}, function () {
                var doc = document;
                if (doc.fullscreenElement) { doc.exitFullscreen(); return; }
                if (box.requestFullscreen) {
                    box.requestFullscreen().catch(function () { box.classList.toggle("vm-full-window"); });
                } else {
                    box.classList.toggle("vm-full-window");
                }
                setTimeout(function () { map.invalidateSize(); }, 200);
            });
            document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Fullscreen"
        self.title = "全屏 Fullscreen"


class Locate(MacroElement):
    """我的位置 / my location: a marker and accuracy circle; shifted to GCJ-02 on a Gaode page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, gcj) {
            var shown = L.layerGroup().addTo(map);
            function note(text) {
                var box = L.DomUtil.create("div", "vm-toast", map.getContainer());
                box.textContent = text;
                setTimeout(function () { box.remove(); }, 4000);
            }
            window.vmShowPosition = function (lon, lat, accuracy) {
                var p = gcj ? window.vmToGcj02(lon, lat) : [lon, lat];
                var at = L.latLng(p[1], p[0]);
                shown.clearLayers();
                L.circle(at, {radius: accuracy || 0, color: "#1a73e8", weight: 1, fillOpacity: 0.12}).addTo(shown);
                L.circleMarker(at, {radius: 7, color: "#fff", weight: 2, fillColor: "#1a73e8", fillOpacity: 1,
                                    className: "vm-my-location"}).addTo(shown);
                map.setView(at, Math.max(map.getZoom(), 16));
                return [at.lng, at.lat];
            };
            vmButton(map, "topleft", "vm-locate", "locate", {{ this.title|tojson }}, function () {
                if (!navigator.geolocation) { note({{ this.unavailable|tojson }}); return; }
                navigator.geolocation.getCurrentPosition(function (pos) {
                    window.vmShowPosition(pos.coords.longitude, pos.coords.latitude, pos.coords.accuracy);
                }, function () { note({{ this.failed|tojson }}); }, {enableHighAccuracy: true, timeout: 15000});
            });
        })({{ this._parent.get_name() }}, {{ this.gcj02|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, gcj02: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Locate"
        self.gcj02 = gcj02
        self.title = "我的位置 My location"
        self.unavailable = "此浏览器不能定位 / this browser cannot locate you"
        self.failed = "未能定位：请允许定位权限 / could not get your position: allow location access"


class PrintButton(MacroElement):
    """打印清单 / print the stop list: the page's print stylesheet shows only the list (A4)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        vmButton({{ this._parent.get_name() }}, "topleft", "vm-print-button", "print", {{ this.title|tojson }},
                 function () { window.print(); });
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PrintButton"
        self.title = "打印巡查清单 Print the stop list"


class Notice(MacroElement):
    """A line under the map title (提示): here, that the base data is a sample, not an approved map."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="vm-notice" id={{ this.get_name()|tojson }}>{{ this.text_html }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Notice"
        self.text_html = html_text(text)


class RouteArrows(MacroElement):
    """Direction arrows (方向箭头) every ~90 px along the lines of a GeoJSON layer, redrawn on zoom."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, source) {
            var arrows = L.layerGroup().addTo(map);
            var spacing = {{ this.spacing|tojson }};
            function draw() {
                arrows.clearLayers();
                if (!map.hasLayer(source)) { return; }
                source.eachLayer(function (line) {
                    var parts = line.getLatLngs();
                    if (parts.length && !Array.isArray(parts[0])) { parts = [parts]; }
                    parts.forEach(function (latlngs) {
                        var next = spacing / 2, run = 0;
                        for (var i = 1; i < latlngs.length; i++) {
                            var a = map.latLngToLayerPoint(latlngs[i - 1]), b = map.latLngToLayerPoint(latlngs[i]);
                            var len = a.distanceTo(b);
                            while (len > 0 && run + len >= next) {
                                var t = (next - run) / len;
                                var at = map.layerPointToLatLng(L.point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)));
                                var angle = Math.atan2(b.y - a.y, b.x - a.x) * 180 / Math.PI;
                                L.marker(at, {interactive: false, keyboard: false, icon: L.divIcon({
                                    className: "vm-arrow", iconSize: [14, 14], iconAnchor: [7, 7],
                                    html: '<span style="transform: rotate(' + angle.toFixed(1) + 'deg)">➤</span>'
                                })}).addTo(arrows);
                                next += spacing;
                            }
                            run += len;
                        }
                    });
                });
            }
            map.on("zoomend overlayadd overlayremove", draw);
            draw();
            window.vmRouteArrows = arrows;
        })({{ this._parent.get_name() }}, {{ this.source }});
        {% endmacro %}
        """
    )

    def __init__(self, source: Any, spacing: int = 90) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RouteArrows"
        self.source = source.get_name()
        self.spacing = spacing


class OtherPageBaseMaps(MacroElement):
    """Base maps in another datum (另一坐标系的底图): choosing one opens the page drawn for it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on("baselayerchange", function (e) {
            var links = {{ this.links|tojson }};
            if (Object.prototype.hasOwnProperty.call(links, e.name)) { window.location.href = links[e.name]; }
        });
        {% endmacro %}
        """
    )

    def __init__(self, links: dict[str, str]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "OtherPageBaseMaps"
        self.links = literal_json(links)


def plain(text: str) -> str:
    """Text for a template value (``|tojson``) that survives folium's second Jinja pass."""
    return jinja_literal(text)


class LabelsByZoom(MacroElement):
    """Hide village and grid names below a zoom level (名称随缩放显示) so county maps stay legible."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, minZoom) {
            function apply() { map.getContainer().classList.toggle("vm-zoom-low", map.getZoom() < minZoom); }
            map.on("zoomend", apply);
            map.whenReady(apply);
        })({{ this._parent.get_name() }}, {{ this.min_zoom|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, min_zoom: int = 12) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "LabelsByZoom"
        self.min_zoom = min_zoom
