"""The map legend (图例): a Leaflet control built from plain data, in Chinese with English beside.

Follows folium's plugin pattern: a ``MacroElement`` whose ``_template`` gets every value through
``|tojson`` and every name through ``get_name()``. The control builds its DOM with
``textContent``, so labels are never parsed as HTML.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from branca.element import MacroElement

from folium.template import Template

from maps.base_layers import BOUNDARY_STYLES, LINE_STYLES
from maps.elements import literal_json

Swatch = Literal["point", "line", "dash", "polygon"]


@dataclass(frozen=True)
class LegendEntry:
    """One legend row (图例项): a swatch, the Chinese label, the English label, a count."""

    label_zh: str
    label_en: str
    swatch: Swatch
    fill: str = ""
    stroke: str = ""
    count: int | None = None
    symbol: str = ""


@dataclass(frozen=True)
class LegendSection:
    """A titled group of legend rows (图例分组)."""

    title: str
    entries: tuple[LegendEntry, ...]


class Legend(MacroElement):
    """A collapsible legend control (图例控件), open on load unless the map is phone-sized.

    Examples
    --------
    >>> entry = LegendEntry("垃圾点", "Garbage point", "point", fill="#8c564b", count=3)
    >>> Legend([LegendSection("问题 Cases", (entry,))]).add_to(folium_map)
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function (map) {
                var data = {{ this.data|tojson }};
                var size = map.getSize();
                var box = L.DomUtil.create("div", "vm-legend leaflet-control");
                var details = L.DomUtil.create("details", "", box);
                details.open = size.x >= {{ this.open_min_width|tojson }} && size.y >= 450;
                L.DomUtil.create("summary", "", details).textContent = data.title;
                data.sections.forEach(function (section) {
                    L.DomUtil.create("h4", "", details).textContent = section.title;
                    section.entries.forEach(function (entry) {
                        var row = L.DomUtil.create("div", "vm-legend-row", details);
                        var swatch = L.DomUtil.create("span", "vm-sw vm-sw-" + entry.swatch, row);
                        swatch.style.backgroundColor = entry.fill;
                        swatch.style.borderColor = entry.stroke;
                        var text = entry.symbol ? entry.symbol + " " : "";
                        text += entry.label_zh;
                        if (entry.count !== null) { text += " (" + entry.count + ")"; }
                        L.DomUtil.create("span", "vm-legend-zh", row).textContent = text;
                        L.DomUtil.create("span", "vm-legend-en", row).textContent = entry.label_en;
                    });
                });
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                return box;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        sections: list[LegendSection],
        *,
        title: str = "图例 Legend",
        position: str = "bottomleft",
        open_min_width: int = 600,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        self.position = position
        self.open_min_width = open_min_width
        self.data = literal_json({"title": title, "sections": [asdict(s) for s in sections]})


def category_entry(label_zh: str, label_en: str, color: str, symbol: str, kinds: list[str]) -> LegendEntry:
    """The row of a case category (类别), its swatch after the commonest geometry kind."""
    kind = max(("point", "line", "polygon"), key=kinds.count)
    if kind == "point":
        return LegendEntry(label_zh, label_en, "point", color, "#ffffff", len(kinds), symbol)
    swatch: Swatch = "line" if kind == "line" else "polygon"
    return LegendEntry(label_zh, label_en, swatch, color, color, len(kinds), symbol)


def base_section(line_kinds: set[str]) -> LegendSection:
    """Rows for the boundaries and the base-map line kinds present (底图图例)."""
    grid, village = BOUNDARY_STYLES["grid"]["color"], BOUNDARY_STYLES["village"]["color"]
    entries = [
        LegendEntry("网格边界", "grid boundary", "dash", stroke=grid),
        LegendEntry("村界", "village boundary", "dash", stroke=village),
    ]
    for kind, (zh, en, style) in LINE_STYLES.items():
        if kind in line_kinds:
            swatch: Swatch = "dash" if "dashArray" in style else "line"
            entries.append(LegendEntry(zh, en, swatch, stroke=style["color"]))
    return LegendSection("边界与底图 Boundaries & base map", tuple(entries))
