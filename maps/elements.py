"""Page and map elements (地图页面元素) shared by VillageMap's maps, and the offline base map.

Folium wraps the output of every ``MacroElement`` macro in a new Jinja template and renders it a
second time, so any text that reaches a macro (even through ``|tojson``) must not contain Jinja
syntax. :func:`jinja_literal` makes text survive that second pass unchanged; :func:`html_text`
escapes HTML as well. Values reach JavaScript only through ``|tojson`` and element names only
through ``get_name()``, following folium's plugin pattern.

The base map (底图) is drawn from VillageMap's own layers (regions, roads, ditches, rivers, names)
in panes below the overlays, so a map is useful with no network and toggling layers never puts
the background above the cases.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from branca.element import Element, Figure, MacroElement

import folium
from folium.map import CustomPane
from folium.template import Template
from folium.utilities import JsCode
from shapely.geometry import shape

TEMPLATES = Path(__file__).with_name("templates")

_RAW_BRACE = "{% raw %}{{% endraw %}"


def jinja_literal(text: str) -> str:
    """Protect ``text`` from folium's second Jinja pass (模板转义): every ``{`` becomes literal.

    Each ``{`` is wrapped in ``{% raw %}…{% endraw %}``, so ``{{ x }}``, ``{% … %}`` and
    ``{# … #}`` come out of the second pass exactly as written. Use the result only in
    text that goes through a folium macro.
    """
    return text.replace("{", _RAW_BRACE)


def html_text(value: object) -> str:
    """Plain text → HTML-escaped text that also survives folium's second Jinja pass."""
    return jinja_literal(html.escape(str(value), quote=True))


def literal_json(value: Any) -> Any:
    """Apply :func:`jinja_literal` to every string (keys too) in a JSON-like value."""
    if isinstance(value, str):
        return jinja_literal(value)
    if isinstance(value, dict):
        return {literal_json(key): literal_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [literal_json(item) for item in value]
    return value


class RawHtml(Element):
    """Markup inserted verbatim (原样输出): never parsed as a Jinja template.

    For vendor code and stylesheets, which must not go through Jinja at all.
    """

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.markup = markup

    def render(self, **_kwargs: Any) -> str:
        """Return the markup unchanged."""
        return self.markup


class PageFigure(Figure):
    """The HTML page (页面) of a map: ``lang="zh-CN"``, an escaped ``<title>``, script in body."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        "<title>{{ this.title|e }}</title>\n"
        "{{ this.header.render(**kwargs) }}\n"
        "</head>\n<body>\n"
        "{{ this.html.render(**kwargs) }}\n"
        "<script>\n{{ this.script.render(**kwargs) }}\n</script>\n"
        "</body>\n</html>\n"
    )

    def __init__(self, title: str) -> None:
        super().__init__(title=title)
        self.header._children.pop("meta_http", None)  # the template declares the charset first


def stylesheet() -> RawHtml:
    """VillageMap's own map stylesheet (样式表), inlined: labels, legend, popups, title."""
    css = (TEMPLATES / "villagemap.css").read_text(encoding="utf-8")
    return RawHtml(f"<style>\n{css}</style>")


class MapTitle(MacroElement):
    """The visible map title (图名) over the top of the map."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="vm-title" id={{ this.get_name()|tojson }}>{{ this.title_html }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, title: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "MapTitle"
        self.title_html = html_text(title)


class Attribution(MacroElement):
    """Data attribution (数据来源) added to the map's Leaflet attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution(
                {{ this.text_html|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Attribution"
        self.text_html = html_text(text)


class ScaleBar(MacroElement):
    """A metric scale bar (比例尺)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control.scale(
                {{ this.options|tojson }}
            ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, position: str = "bottomleft") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "ScaleBar"
        self.options = {"position": position, "metric": True, "imperial": False}


class LayerRegistry(MacroElement):
    """Expose the map and its named layers as ``window.villageMap`` (图层索引).

    ``groups`` maps a group name to {key: layer element}; the page gets
    ``villageMap = {map: <L.Map>, <group>: {<key>: <layer>}}`` for later scripts and tests.
    Add it after the layers it names.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            window.villageMap = {
                map: {{ this._parent.get_name() }},
                {%- for group, layers in this.groups.items() %}
                {{ group|tojson }}: {
                    {%- for key, layer in layers.items() %}
                    {{ key|tojson }}: {{ layer.get_name() }},
                    {%- endfor %}
                },
                {%- endfor %}
            };
        {% endmacro %}
        """
    )

    def __init__(self, groups: dict[str, dict[str, Any]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "LayerRegistry"
        self.groups = {
            jinja_literal(group): {jinja_literal(key): layer for key, layer in layers.items()}
            for group, layers in groups.items()
        }


# ---- GeoJSON helpers -----------------------------------------------------------------------

StyleFunction = Callable[[dict[str, Any]], dict[str, Any]]


def feature_collection(features: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``features``."""
    return {"type": "FeatureCollection", "features": list(features)}


def clean_feature(geometry: dict[str, Any], properties: dict[str, Any], fid: Any = None) -> dict[str, Any]:
    """A new Feature whose property strings survive folium's second Jinja pass.

    Give HTML-escaped text for anything the page shows as HTML; do not pre-apply
    :func:`jinja_literal` (this does it once).
    """
    out = {"type": "Feature", "geometry": geometry, "properties": literal_json(properties)}
    if fid is not None:
        out["id"] = fid
    return out


def styled_geojson(features: list[dict[str, Any]], style: StyleFunction, **kw: Any) -> Any:
    """One ``folium.GeoJson`` layer of clean features with a Python style function."""
    return folium.GeoJson(feature_collection(features), style_function=style, **kw)


def by_property(key: str, styles: dict[str, dict[str, Any]]) -> StyleFunction:
    """A style function returning ``styles[feature.properties[key]]``."""
    return lambda feature: dict(styles[feature["properties"][key]])


# ---- the offline base map (底图) ----------------------------------------------------------

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
