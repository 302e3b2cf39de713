"""Map parts without a browser (地图部件): base-map choices, the GCJ-02 display shift, the print list,
route layers and the map benchmark's smoke run."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bench import maps as bench_maps
from gis.crs import Datum, from_wgs84
from gis.display import navigation_points, shift_geojson
from maps.assets import served
from maps.basemaps import GAODE, BaseMapOptions
from maps.patrol import render_patrol_map
from maps.printlist import stop_list_page, stop_list_section
from tests.test_maps_render import LAT, LON, js, patrol_sample


def route_sample() -> dict[str, Any]:
    stops = [
        {"type": "Feature", "id": 101, "geometry": {"type": "Point", "coordinates": [LON - 0.002, LAT + 0.0015]},
         "properties": {"seq": 1, "case_id": 101, "code": "C2022-0101", "category": "garbage_point",
                        "category_label": "垃圾点", "title": "路边<垃圾>", "leg_m": 320.0, "cum_m": 320.0,
                        "overdue": True, "leg_on_road": True}},
        {"type": "Feature", "id": 102, "geometry": {"type": "Point", "coordinates": [LON + 0.002, LAT - 0.001]},
         "properties": {"seq": 2, "case_id": 102, "code": "C2022-0102", "category": "garbage_point",
                        "category_label": "垃圾点", "title": "草堆", "leg_m": 1210.0, "cum_m": 1530.0}},
    ]  # fmt: skip
    line = {"type": "Feature", "id": "route", "properties": {"kind": "route", "total_m": 1900.0},
            "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [LON - 0.002, LAT + 0.0015],
                                                               [LON + 0.002, LAT - 0.001], [LON, LAT]]}}  # fmt: skip
    return {"type": "FeatureCollection", "features": [*stops, line], "total_m": 1900.0, "duration_s": 1583,
            "network": True, "mode": "walk"}  # fmt: skip


def test_base_maps_offered_by_datum_and_token() -> None:
    data = patrol_sample()
    plain = render_patrol_map(data, assets=served())
    assert "tianditu" not in plain and "autonavi" not in plain, "no token, no other page: OSM only"
    with_token = render_patrol_map(replace(data, basemaps=BaseMapOptions(tianditu_token="k&y")), assets=served())
    assert "tianditu.gov.cn/vec_w/wmts" in with_token and "tk=k%26y" in with_token
    assert js("天地图 影像 Tianditu imagery") in with_token
    linked = render_patrol_map(replace(data, basemaps=BaseMapOptions(other_page_url="/x?basemap=gaode")),
                               assets=served())  # fmt: skip
    assert "autonavi" not in linked and js("高德地图 Gaode (GCJ-02)") in linked
    assert '"/x?basemap=gaode"' in linked
    gaode = render_patrol_map(replace(data, basemaps=BaseMapOptions("GCJ-02", other_page_url="/x")), assets=served())
    assert js(GAODE % 8)[1:-1] in gaode and js(GAODE % 6)[1:-1] in gaode
    # on the GCJ-02 page OSM is only a link back to the WGS84 page, never a tile layer
    assert "tile.openstreetmap.org" not in gaode and js("OpenStreetMap 在线底图 (online)") in gaode


def test_gcj02_shift_is_for_display_and_moves_label_points() -> None:
    data = patrol_sample()
    shifted = shift_geojson(data.neighbours, Datum.GCJ02)
    before, after = data.neighbours["features"][0], shifted["features"][0]
    lon, lat = before["properties"]["label_point"]
    assert after["properties"]["label_point"] == pytest.approx(list(from_wgs84(lon, lat, Datum.GCJ02)), abs=1e-7)
    x, y = before["geometry"]["coordinates"][0][0]
    assert after["geometry"]["coordinates"][0][0] == pytest.approx(list(from_wgs84(x, y, Datum.GCJ02)), abs=1e-7)
    assert data.neighbours["features"][0]["geometry"] == before["geometry"], "the input is not changed"
    assert shift_geojson(data.cases, Datum.WGS84) is data.cases
    nav = navigation_points(LON, LAT)
    assert nav["wgs84"] == [LON, LAT] and nav["gcj02"] != nav["wgs84"] and nav["bd09"] != nav["gcj02"]


def test_route_layers_controls_and_print_list_on_the_page() -> None:
    page = render_patrol_map(replace(patrol_sample(), route=route_sample()), assets=served())
    assert '"route": feature_group' in page and '"stops": feature_group' in page
    for control in ("vm-fullscreen", "vm-locate", "vm-print-button", "vmRouteArrows"):
        assert control in page
    assert '<section class="vm-print">' in page and "@page { size: A4 portrait" in page
    assert page.count('<td><span class="vm-tick"></span></td>') == 2
    assert "路边&lt;垃圾&gt;" in page and "路边<垃圾>" not in page
    assert js("巡查点 Stops (2)") in page
    no_route = render_patrol_map(patrol_sample(), assets=served())
    assert "vm-print-button" not in no_route and '<section class="vm-print">' not in no_route


def test_stop_list_page_is_a4_chinese_and_escaped() -> None:
    page = stop_list_page("渠口乡 金桥村第1网格 巡查图", route_sample())
    assert "<title>渠口乡 金桥村第1网格 巡查清单</title>" in page
    rows = re.findall(r"<tr><td class=\"vm-num\">(\d+)</td><td>([^<]+)</td>", page)
    assert rows == [("1", "C2022-0101"), ("2", "C2022-0102")]
    assert "1.21 千米" in page and "320 米" in page and "步行约 26 分钟" in page
    assert "逾期" in page and "&lt;垃圾&gt;" in page
    empty = stop_list_section("x", {"features": []})
    assert "没有待巡查的问题" in empty


def test_map_bench_smoke() -> None:
    (row,) = bench_maps.main(["--smoke"])
    assert row["cases"] == 60 and row["villagemap_bytes"] > 0 and row["markers_bytes"] > 0
