"""Online base maps (在线底图) a user may switch to: OpenStreetMap, 天地图 Tianditu, 高德 Gaode.

None is shown when a page opens (VillageMap's own offline base map is), so an offline page asks
for nothing. Tianditu (CGCS2000 ≈ WGS84, Web Mercator tiles ``_w``) needs a browser key
(``VILLAGEMAP_TIANDITU_TOKEN``) and is offered only when one is configured: vector with its
annotation, and imagery (影像) with its annotation. Gaode draws GCJ-02: its tiles are offered on
the page whose overlays were shifted to GCJ-02 (``datum="GCJ-02"``); the other page offers the
entry as a link to it (and back), so features always sit on the right spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import folium

from maps.controls import OtherPageBaseMaps

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TIANDITU = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s" + (
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s"
)
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
GAODE = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=%d&x={x}&y={y}&z={z}"
GAODE_ATTRIBUTION = '&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>'
OSM_NAME = "OpenStreetMap 在线底图 (online)"
TIANDITU_VEC = "天地图 矢量 Tianditu"
TIANDITU_IMG = "天地图 影像 Tianditu imagery"
GAODE_VEC = "高德地图 Gaode (GCJ-02)"
GAODE_IMG = "高德影像 Gaode imagery (GCJ-02)"


@dataclass(frozen=True)
class BaseMapOptions:
    """Which online base maps a page offers (底图选项) and where the other-datum page is."""

    datum: str = "EPSG:4326"  # the datum the page's overlays are drawn in: EPSG:4326 or GCJ-02
    tianditu_token: str = ""
    other_page_url: str | None = None  # the same map in the other datum; None for offline files

    @property
    def gcj02(self) -> bool:
        """True on a page whose overlays are shifted to GCJ-02."""
        return self.datum == "GCJ-02"


def _tiles(url: str, name: str, attribution: str, subdomains: str, max_native: int = 18) -> folium.TileLayer:
    return folium.TileLayer(url, attr=attribution, name=name, overlay=False, show=False, max_zoom=20,
                            max_native_zoom=max_native, subdomains=subdomains)  # fmt: skip


def _pair(name: str, first: folium.TileLayer, second: folium.TileLayer) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, overlay=False, show=False)
    first.add_to(group)
    second.add_to(group)
    return group


def _placeholder(name: str) -> folium.FeatureGroup:
    """An empty base layer whose choice opens the other page."""
    return folium.FeatureGroup(name=name, overlay=False, show=False)


def online_base_maps(opts: BaseMapOptions) -> tuple[dict[str, folium.map.Layer], OtherPageBaseMaps | None]:
    """The online base layers by key (``osm``, ``tianditu_vec`` …) for the layer control, and the
    switcher that opens the other-datum page for entries drawn there (keys ``switch_…``)."""
    wgs: dict[str, folium.map.Layer] = {"osm": _tiles(OSM_TILES, OSM_NAME, OSM_ATTRIBUTION, "abc", 19)}
    if opts.tianditu_token:
        token = quote(opts.tianditu_token, safe="")
        vec = _tiles(TIANDITU % ("vec", "vec", token), "tdt-vec", TIANDITU_ATTRIBUTION, "01234567")
        cva = _tiles(TIANDITU % ("cva", "cva", token), "tdt-cva", TIANDITU_ATTRIBUTION, "01234567")
        img = _tiles(TIANDITU % ("img", "img", token), "tdt-img", TIANDITU_ATTRIBUTION, "01234567")
        cia = _tiles(TIANDITU % ("cia", "cia", token), "tdt-cia", TIANDITU_ATTRIBUTION, "01234567")
        wgs |= {"tianditu_vec": _pair(TIANDITU_VEC, vec, cva), "tianditu_img": _pair(TIANDITU_IMG, img, cia)}
    gaode: dict[str, folium.map.Layer] = {
        "gaode_vec": _tiles(GAODE % 8, GAODE_VEC, GAODE_ATTRIBUTION, "1234"),
        "gaode_img": _tiles(GAODE % 6, GAODE_IMG, GAODE_ATTRIBUTION, "1234"),
    }
    here, there = (gaode, wgs) if opts.gcj02 else (wgs, gaode)
    if opts.other_page_url is None:
        return here, None
    links = {layer.layer_name: opts.other_page_url for layer in there.values()}
    placeholders = {f"switch_{key}": _placeholder(layer.layer_name) for key, layer in there.items()}
    return here | placeholders, OtherPageBaseMaps(links)
