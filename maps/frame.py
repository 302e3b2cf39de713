"""The frame every area map shares (地图框架): page, assets, offline base map, online base maps,
the area outline, controls, legend, title, notice, attribution and the layer registry.

``open_area_map`` starts a map fitted to an area; the caller adds its layers; ``close_area_map``
adds what goes on top and last (legend, layer control, registry). Pages that keep a side panel
(e.g. the projects map's totals table) pass its HTML to ``close_area_map``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import folium
from shapely.geometry import shape

from maps.assets import AssetMode, attach_assets
from maps.base_layers import add_panes, base_layer, line_kind
from maps.basemaps import BaseMapOptions, online_base_maps
from maps.controls import SAMPLE_NOTICE, ButtonHelper, Fullscreen, LabelsByZoom, Locate, Notice, OtherPageBaseMaps
from maps.elements import (
    Attribution,
    LayerRegistry,
    MapTitle,
    PageFigure,
    RawHtml,
    ScaleBar,
    clean_feature,
    styled_geojson,
    stylesheet,
)
from maps.legend import Legend, LegendSection, base_section

SIDE_CSS = """
body:has(> .vm-side) { display: flex; }
body:has(> .vm-side) > .folium-map { flex: 1 1 auto; }
.vm-side { flex: 0 0 460px; overflow: auto; padding: 10px 12px; box-sizing: border-box; height: 100%;
           font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; font-size: 12px; }
.vm-side h2 { font-size: 15px; margin: 4px 0 8px; }
.vm-side table { border-collapse: collapse; width: 100%; }
.vm-side th, .vm-side td { border-bottom: 1px solid #ddd; padding: 3px 4px; text-align: right; white-space: nowrap; }
.vm-side th:first-child, .vm-side td:first-child { text-align: left; }
.vm-side tfoot td { font-weight: bold; }
body:has(> .vm-side) .vm-title, body:has(> .vm-side) .vm-notice { left: calc(50% + 230px); max-width: 50%; }
@media (max-width: 700px) {
  body:has(> .vm-side) .vm-title, body:has(> .vm-side) .vm-notice { left: 50%; }
  body:has(> .vm-side) { flex-direction: column; }
  body:has(> .vm-side) > .folium-map { height: 65% !important; }
  .vm-side { height: 35%; flex: 0 0 auto; }
}
"""


@dataclass(frozen=True)
class AreaFrame:
    """What frames an area map (区域底图): title, the area's outline, regions and base lines."""

    title: str
    base: dict[str, Any]  # {"area": Feature, "regions": FeatureCollection, "lines": FeatureCollection}
    attribution: str
    notice: str = SAMPLE_NOTICE
    basemaps: BaseMapOptions = field(default_factory=BaseMapOptions)


@dataclass
class OpenMap:
    """A map being built: the folium map, its page, the layers registered so far, the switcher."""

    fmap: folium.Map
    figure: PageFigure
    layers: dict[str, Any]
    switcher: OtherPageBaseMaps | None
    bounds: list[list[float]]


def open_area_map(frame: AreaFrame, assets: AssetMode, plugins: tuple[str, ...] = ()) -> OpenMap:
    """Page, assets, panes, offline and online base maps and the area outline, fitted to the area."""
    west, south, east, north = shape(frame.base["area"]["geometry"]).bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=11, tiles=None, maxZoom=20)
    figure = PageFigure(frame.title)
    figure.add_child(fmap)
    attach_assets(fmap, assets, plugins)
    figure.header.add_child(stylesheet(), name="villagemap_css")
    add_panes(fmap)
    lines = [f for f in frame.base["lines"].get("features", []) if f.get("geometry")]
    online, switcher = online_base_maps(frame.basemaps)
    layers: dict[str, Any] = {"base": base_layer(frame.base["regions"].get("features", []), lines)}
    layers |= online
    outline = {"color": "#333333", "weight": 2.5, "fill": False, "dashArray": "8 4 2 4"}
    area = [clean_feature(frame.base["area"]["geometry"], {})]
    layers["area"] = styled_geojson(area, lambda _f: outline, name="区域边界 Area boundary", pane="vmBoundary",
                                    interactive=False)  # fmt: skip
    for layer in layers.values():
        layer.add_to(fmap)
    return OpenMap(fmap, figure, layers, switcher, [[south, west], [north, east]])


def close_area_map(
    m: OpenMap, frame: AreaFrame, sections: list[LegendSection], *, side_html: str | None = None
) -> folium.Map:
    """Controls, legend, title, notice, attribution, layer control and registry; the side panel."""
    fmap = m.fmap
    ScaleBar().add_to(fmap)
    ButtonHelper().add_to(fmap)
    Fullscreen().add_to(fmap)
    Locate(gcj02=frame.basemaps.gcj02).add_to(fmap)
    LabelsByZoom().add_to(fmap)
    kinds = {line_kind(f) for f in frame.base["lines"].get("features", [])}
    Legend([*sections, base_section(kinds)]).add_to(fmap)
    Attribution(frame.attribution).add_to(fmap)
    MapTitle(frame.title).add_to(fmap)
    Notice(frame.notice).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if m.switcher is not None:
        m.switcher.add_to(fmap)
    fmap.fit_bounds(m.bounds, padding=(16, 16))
    LayerRegistry({"layers": m.layers}).add_to(fmap)
    if side_html is not None:
        m.figure.header.add_child(RawHtml(f"<style>{SIDE_CSS}</style>"), name="side_css")
        m.figure.html.add_child(RawHtml(side_html), name="side_panel")
    return fmap


def render(fmap: folium.Map) -> str:
    """The full HTML document of a map."""
    return str(fmap.get_root().render())
