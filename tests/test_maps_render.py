"""Patrol map (巡查图) rendering without a browser: assets, layers, legend, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jinja2.utils import htmlsafe_json_dumps

from maps import assets
from maps.assets import AssetsMissing, inline, missing_assets, served, static_dirs
from maps.patrol import OSM_TILES, CategoryStyle, PatrolMapData, build_patrol_map, render_patrol_map

LON, LAT = 106.61, 38.87
EVIL = "<script>alert(1)</script> {{ x }} {% if %} {# c {% endraw %}"
CATEGORIES = [
    CategoryStyle("garbage_point", "垃圾点", "Garbage point", "#8c564b", "●"),
    CategoryStyle("black_odorous_water", "黑臭水体", "Black-odorous water", "#1f3b73", "≈"),
    CategoryStyle("ruined_wall", "残垣断壁", "Ruined wall", "#d62728", "▲"),
    CategoryStyle("dilapidated_house", "危房", "Dilapidated house", "#9467bd", "■"),
]
PRESENT = ["garbage_point", "black_odorous_water", "ruined_wall"]


def square(cx: float, cy: float, half: float) -> dict[str, Any]:
    """A GeoJSON Polygon square centred on (cx, cy), [lon, lat]."""
    ring = [
        [cx - half, cy - half],
        [cx + half, cy - half],
        [cx + half, cy + half],
        [cx - half, cy + half],
        [cx - half, cy - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def region(geometry: dict[str, Any], code: str, name: str, level: str, **extra: Any) -> dict[str, Any]:
    return feature(geometry, code=code, name=name, level=level, **extra)


def line(coordinates: list[list[float]], kind: str, name: str) -> dict[str, Any]:
    return feature({"type": "LineString", "coordinates": coordinates}, kind=kind, name=name)


def case(cid: int, category: str, geometry: dict[str, Any], *, overdue: bool = False, **extra: Any) -> dict[str, Any]:
    label = next(c.label_zh for c in CATEGORIES if c.code == category)
    props = {
        "id": cid,
        "code": f"C2022-{cid:04d}",
        "category": category,
        "category_label": label,
        "status": "assigned",
        "status_label": "已派遣",
        "deadline": "2022-01-10" if overdue else "2022-02-17",
        "overdue": overdue,
        "title": f"{label} {cid}",
        "description": "",
    }
    return feature(geometry, **(props | extra))


def patrol_sample() -> PatrolMapData:
    """A small synthetic grid of 金桥村 with 5 open cases in 3 categories (one overdue)."""
    point = {"type": "Point", "coordinates": [LON - 0.002, LAT + 0.0015]}
    cases = collection(
        case(101, "garbage_point", point, overdue=True, title="路边垃圾堆", description=EVIL),
        case(102, "garbage_point", {"type": "Point", "coordinates": [LON + 0.002, LAT - 0.001]}),
        case(
            103,
            "black_odorous_water",
            {"type": "LineString", "coordinates": [[LON - 0.003, LAT - 0.002], [LON, LAT - 0.0025]]},
        ),
        case(104, "black_odorous_water", square(LON + 0.0015, LAT + 0.002, 0.0006)),
        case(
            105,
            "ruined_wall",
            {"type": "MultiPolygon", "coordinates": [square(LON, LAT, 0.0003)["coordinates"]]},
        ),
    )
    neighbours = collection(
        region(square(LON, LAT, 0.05), "640221202", "渠口乡", "township", label_point=[LON, LAT + 0.03]),
        region(square(LON + 0.03, LAT, 0.015), "640221202205", "韩桥村", "village"),
        region(square(LON - 0.03, LAT, 0.015), "640221202203", "东风村", "village"),
        region(square(LON + 0.008, LAT, 0.004), "640221202204002", "第2网格", "grid"),
    )
    lines = collection(
        line([[LON - 0.02, LAT + 0.005], [LON + 0.02, LAT + 0.005]], "road", "金桥路"),
        line([[LON - 0.02, LAT - 0.006], [LON + 0.02, LAT - 0.004]], "canal", "惠农渠"),
        line([[LON - 0.006, LAT - 0.02], [LON - 0.005, LAT + 0.02]], "ditch", "第三排水沟"),
    )
    return PatrolMapData(
        title="渠口乡 金桥村 第1网格 巡查图",
        grid=feature(square(LON, LAT, 0.004), code="640221202204001", name="第1网格"),
        village=feature(square(LON, LAT, 0.015), code="640221202204", name="金桥村"),
        neighbours=neighbours,
        lines=lines,
        cases=cases,
        categories=CATEGORIES,
        attribution="VillageMap 样例数据 <sample> {{ data }}",
    )


def js(value: Any) -> str:
    """``value`` as Jinja's ``|tojson`` writes it into the page (ASCII, HTML-safe)."""
    return str(htmlsafe_json_dumps(value))


def case_count_by_category(data: PatrolMapData) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in data.cases["features"]:
        counts[f["properties"]["category"]] = counts.get(f["properties"]["category"], 0) + 1
    return counts


# ---- assets ---------------------------------------------------------------------------------


def test_assets_installed() -> None:
    assert missing_assets() == [], "run scripts/fetch-assets.sh"
    dirs = static_dirs()
    assert set(dirs) == {"leaflet", "maplibre-gl", "leaflet.markercluster", "leaflet.heat"}
    assert (dirs["leaflet"] / "leaflet.js").is_file()


def test_missing_assets_raise_clear_error(tmp_path: Path) -> None:
    problems = missing_assets(tmp_path)
    assert problems and "leaflet@1.9.4" in problems[0]
    for mode in (inline(root=tmp_path), served(root=tmp_path)):
        with pytest.raises(AssetsMissing) as err:
            render_patrol_map(patrol_sample(), assets=mode)
        message = str(err.value)
        assert "scripts/fetch-assets.sh" in message
        assert "地图前端资源" in message and "Map assets" in message


def test_missing_assets_via_asset_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "ASSET_ROOT", tmp_path)
    with pytest.raises(AssetsMissing, match="fetch-assets"):
        render_patrol_map(patrol_sample(), assets=inline())


def test_wrong_version_is_reported(tmp_path: Path) -> None:
    (tmp_path / "leaflet").mkdir()
    (tmp_path / "leaflet" / "package.json").write_text('{"version": "1.9.3"}')
    assert any("installed 1.9.3, need 1.9.4" in p for p in missing_assets(tmp_path))


def test_unsafe_prefix_refused() -> None:
    with pytest.raises(ValueError):
        served('/static"><script>')


# ---- served and inline pages ----------------------------------------------------------------


def script_and_style_urls(page: str) -> list[str]:
    srcs = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", page)
    hrefs = re.findall(r"<link[^>]*\bhref=\"([^\"]*)\"", page)
    return srcs + hrefs


def test_served_mode_links_only_the_prefix() -> None:
    page = render_patrol_map(patrol_sample(), assets=served("/static/vendor"))
    urls = script_and_style_urls(page)
    assert sorted(urls) == ["/static/vendor/leaflet/leaflet.css", "/static/vendor/leaflet/leaflet.js"]
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "cdn" not in " ".join(urls)


def test_inline_mode_is_self_contained() -> None:
    page = render_patrol_map(patrol_sample(), assets=inline())
    assert script_and_style_urls(page) == []
    assert "<link" not in page
    assert "L.Icon.Default.mergeOptions" in page
    assert 'url("data:image/png;base64,' in page
    # every url(...) in the page is a data: URI (or Leaflet's old-IE VML behaviour)
    for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", page):
        assert target.startswith(("data:", "#default#VML")), target
    # outside the inlined Leaflet files (whose comments cite leafletjs.com and bug trackers), the
    # only web URLs are the OSM layer's tile template and its attribution link
    own = page
    for vendor in (
        r"<script>/\* leaflet@1\.9\.4 leaflet\.js \*/.*?</script>",
        r"<style>/\* leaflet@1\.9\.4 leaflet\.css \*/.*?</style>",
        r"<!-- leaflet@1\.9\.4 licence:.*?-->",
    ):
        own, n = re.subn(vendor, "", own, flags=re.S)
        assert n == 1, vendor
    found = set(re.findall(r"https?://[^\s\"'<>)\\]+", own))
    navigate = {"https://uri.amap.com/marker?position=", "https://api.map.baidu.com/marker?location="}
    assert found == {OSM_TILES, "https://www.openstreetmap.org/copyright"} | navigate


def test_inline_leaflet_is_the_pinned_version() -> None:
    page = render_patrol_map(patrol_sample(), assets=inline())
    assert "Leaflet 1.9.4" in page
    assert "sourceMappingURL" not in page


# ---- content --------------------------------------------------------------------------------


def test_one_geojson_layer_per_category_present() -> None:
    data = patrol_sample()
    page = render_patrol_map(data, assets=served())
    for style in CATEGORIES:
        assert (js(f"{style.label_zh} {style.label_en}") in page) == (style.code in PRESENT)
    # one FeatureGroup per present category, each holding one GeoJson with its features
    counts = case_count_by_category(data)
    for code in PRESENT:
        assert page.count(f'"code":"{code}"') == 1, "one case layer per category"
    case_layers = re.findall(r"\"cases\": \{(.*?)\}", page, flags=re.S)
    assert len(case_layers) == 1
    assert re.findall(r"\"(\w+)\": geo_json_", case_layers[0]) == PRESENT
    assert sum(counts.values()) == 5


def test_base_map_is_default_and_osm_is_second_choice() -> None:
    page = render_patrol_map(patrol_sample(), assets=served())
    base = re.search(re.escape(js("村庄底图 VillageMap base map")) + r" : (feature_group_\w+)", page)
    osm = re.search(re.escape(js("OpenStreetMap 在线底图 (online)")) + r" : (tile_layer_\w+)", page)
    assert base and osm
    assert f"{base.group(1)}.addTo(map_" in page
    assert f"{osm.group(1)}.addTo(" not in page
    assert OSM_TILES in page and "openstreetmap.org/copyright" in page
    for name in ("村界 Village boundary", "网格边界 Grid boundary"):
        assert js(name) in page
    # fitted to the grid, in Leaflet's [lat, lon] order
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page, flags=re.S)
    assert fit
    (south, west), (north, east) = json.loads(fit.group(1))
    assert [south, west, north, east] == pytest.approx([38.866, 106.606, 38.874, 106.614])


def test_legend_scale_attribution_and_title() -> None:
    page = render_patrol_map(patrol_sample(), assets=served())
    for label in ("垃圾点", "黑臭水体", "残垣断壁", "已逾期", "网格边界", "村界", "道路", "渠道", "沟道"):
        assert f'"label_zh": {js(label)}' in page
    assert js("危房") not in page
    assert "L.control.scale(" in page and '"imperial": false' in page
    assert "addAttribution(" in page
    assert "<title>渠口乡 金桥村 第1网格 巡查图</title>" in page
    assert '<html lang="zh-CN">' in page
    assert "L.control.layers(" in page


def test_every_text_is_escaped() -> None:
    page = render_patrol_map(patrol_sample(), assets=inline())
    assert "<script>alert(1)</script>" not in page
    assert "<sample>" not in page
    # the description reaches the page as JSON text (the popup sets it with textContent), and
    # Jinja-like braces survive folium's second template pass literally
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e {{ x }} {% if %} {# c {% endraw %}" in page
    assert js("VillageMap 样例数据 &lt;sample&gt; {{ data }}") in page
    assert "{% raw %}" not in page
    assert page.count('<meta charset="utf-8">') == 1 and "http-equiv" not in page


def test_extra_layers_go_above_the_cases_and_into_the_registry() -> None:
    import folium

    route = folium.FeatureGroup(name="巡查路线 Patrol route")
    fmap = build_patrol_map(patrol_sample(), assets=served(), extra_layers={"route": route})
    page = fmap.get_root().render()
    assert f"{js('巡查路线 Patrol route')} : {route.get_name()}" in page
    assert f'"route": {route.get_name()}' in page
    groups = re.search(r"\"groups\": \{(.*?)\}", page, flags=re.S)
    assert groups
    case_groups = re.findall(r"feature_group_\w+", groups.group(1))
    assert len(case_groups) == len(PRESENT)
    added = page.index(f"{route.get_name()}.addTo(")
    assert all(page.index(f"{name}.addTo(") < added for name in case_groups)
    assert added < page.index("L.control.layers(")


def test_hostile_names_everywhere() -> None:
    data = patrol_sample()
    evil_style = CategoryStyle("garbage_point", "垃圾点{{ a }}<b>", "G {% x %}", "#8c564b", "{#")
    data = PatrolMapData(
        title="<i>标题</i> {{ t }}",
        grid=data.grid,
        village=data.village,
        neighbours=data.neighbours,
        lines=data.lines,
        cases=data.cases,
        categories=[evil_style, *CATEGORIES[1:]],
        attribution=data.attribution,
    )
    page = render_patrol_map(data, assets=served())
    assert "<title>&lt;i&gt;标题&lt;/i&gt; {{ t }}</title>" in page
    assert "<b>" not in page and "<i>" not in page
    assert js("垃圾点{{ a }}<b> G {% x %}") in page
    assert ">&lt;i&gt;标题&lt;/i&gt; {{ t }}</div>" in page


def test_unknown_category_gets_a_grey_layer() -> None:
    data = patrol_sample()
    extra = case(106, "garbage_point", {"type": "Point", "coordinates": [LON, LAT]})
    extra["properties"] |= {"category": "camera", "category_label": "视频监控点位"}
    cases = collection(*data.cases["features"], extra)
    page = render_patrol_map(PatrolMapData(**{**data.__dict__, "cases": cases}), assets=served())
    assert js("视频监控点位 camera") in page
    assert '"code":"x_camera"' in page


def test_bad_category_style_refused() -> None:
    with pytest.raises(ValueError):
        CategoryStyle("garbage_point", "垃圾点", "Garbage", "red", "●")
    with pytest.raises(ValueError):
        CategoryStyle("Bad Code", "垃圾点", "Garbage", "#ff0000", "●")


def test_rendering_leaves_folium_defaults_alone() -> None:
    import folium

    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    render_patrol_map(patrol_sample(), assets=served())
    render_patrol_map(patrol_sample(), assets=inline())
    assert (folium.Map.default_js, folium.Map.default_css) == before
