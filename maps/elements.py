"""Page and map elements (地图页面元素) shared by VillageMap's maps.

Folium wraps the output of every ``MacroElement`` macro in a new Jinja template and renders it a
second time, so any text that reaches a macro (even through ``|tojson``) must not contain Jinja
syntax. :func:`jinja_literal` makes text survive that second pass unchanged; :func:`html_text`
escapes HTML as well. Values reach JavaScript only through ``|tojson`` and element names only
through ``get_name()``, following folium's plugin pattern.

The offline base map drawn from VillageMap's own layers is in :mod:`maps.base_layers`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from branca.element import Element, Figure, MacroElement

import folium
from folium.template import Template

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
