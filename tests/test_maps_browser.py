"""Patrol map (巡查图) in a real, offline Chromium: inline file:// page and served page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from maps.assets import inline, served, static_dirs
from maps.patrol import PatrolMapData, render_patrol_map
from tests.browser import PageProbe, open_page, serve
from tests.test_maps_render import EVIL, case_count_by_category, patrol_sample

SCREENSHOT = Path("/tmp/patrol_map.png")


@pytest.fixture(scope="module")
def data() -> PatrolMapData:
    return patrol_sample()


def wait_for_map(page: Page) -> None:
    """Wait until the map script ran, then ~500 ms for fitBounds to settle."""
    page.wait_for_function("() => window.L && window.villageMap && villageMap.map")
    page.wait_for_timeout(500)


def click_case(page: Page, case_id: int, attempts: int = 5) -> str:
    """Click a drawn case and return its popup text, retrying while the map settles."""
    target = page.locator(f'[data-case-id="{case_id}"]').first
    popup = page.locator(".leaflet-popup-content")
    page.evaluate("villageMap.map.closePopup()")
    page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
    for _ in range(attempts):
        try:
            target.click(timeout=2000)
            popup.wait_for(state="visible", timeout=1000)
        except PlaywrightTimeout:
            page.wait_for_timeout(300)
            continue
        return popup.inner_text()
    raise AssertionError(f"no popup after clicking case {case_id} {attempts} times")


def check_patrol_map(probe: PageProbe, data: PatrolMapData, screenshot: Path) -> None:
    """Everything a patrol map must show, and nothing it must not do."""
    page = probe.page
    wait_for_map(page)
    assert page.evaluate("L.version") == "1.9.4"
    assert page.title() == data.title
    assert page.locator(".vm-title").inner_text() == data.title
    check_layers(page, data)
    check_legend(page)
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "VillageMap 样例数据 <sample> {{ data }}" in attribution
    assert page.locator(".leaflet-control-scale-line").count() == 1

    text = click_case(page, 101)
    for expected in ("垃圾点", "已派遣", "assigned", "C2022-0101", "2022-01-10", "已逾期 overdue"):
        assert expected in text
    assert EVIL in text, "the description is shown as text, braces and all"
    tag = page.locator(".leaflet-popup-content .vm-overdue-tag")
    assert tag.evaluate("e => getComputedStyle(e).color") == "rgb(208, 0, 0)"
    page.wait_for_timeout(600)  # let the popup finish fading in
    page.screenshot(path=str(screenshot))

    polygon_text = click_case(page, 104)
    assert "黑臭水体" in polygon_text and "已派遣" in polygon_text
    assert "已逾期" not in polygon_text
    check_default_icon(page)
    assert probe.dialogs == [], "no script from the data ran"
    probe.assert_clean()


def check_layers(page: Page, data: PatrolMapData) -> None:
    counts = page.evaluate(
        """() => Object.fromEntries(Object.entries(villageMap.cases)
            .map(([code, layer]) => [code, layer.getLayers().length]))"""
    )
    assert counts == case_count_by_category(data)
    assert page.locator("path.vm-case").count() == 5
    assert page.locator("path.vm-overdue").count() == 1
    assert page.locator("[data-case-id]").count() == 5
    on_map = page.evaluate(
        """() => Object.fromEntries(Object.entries(villageMap.layers)
            .map(([key, layer]) => [key, villageMap.map.hasLayer(layer)]))"""
    )
    assert on_map == {"base": True, "osm": False, "village": True, "grid": True}
    labels = page.locator(".vm-label").all_inner_texts()
    assert {"渠口乡", "金桥村", "韩桥村", "东风村"} <= set(labels)
    control = page.locator(".leaflet-control-layers").text_content() or ""
    for name in ("村庄底图", "OpenStreetMap", "网格边界", "垃圾点 Garbage point", "残垣断壁"):
        assert name in control


def check_legend(page: Page) -> None:
    legend = page.locator(".vm-legend")
    assert legend.is_visible()
    text = legend.inner_text()
    for label in ("图例", "垃圾点 (2)", "黑臭水体 (2)", "残垣断壁 (1)", "已逾期 (1)", "网格边界", "渠道"):
        assert label in text
    box = legend.bounding_box()
    assert box is not None and box["width"] > 80 and box["height"] > 80


def check_default_icon(page: Page) -> None:
    """Leaflet's default marker PNG loads (data: URI inline, local file when served)."""
    width = page.evaluate(
        """() => new Promise((resolve) => {
            const marker = L.marker(villageMap.map.getCenter()).addTo(villageMap.map);
            const img = marker.getElement();
            const done = (w) => { marker.remove(); resolve(w); };
            if (img.complete) { done(img.naturalWidth); return; }
            img.onload = () => done(img.naturalWidth);
            img.onerror = () => done(0);
        })"""
    )
    assert width == 25


def test_inline_map_from_file(browser: Browser, data: PatrolMapData, tmp_path: Path) -> None:
    page_file = tmp_path / "patrol.html"
    page_file.write_text(render_patrol_map(data, assets=inline()), encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser) as probe:
        check_patrol_map(probe, data, SCREENSHOT)
        assert all(url.startswith(("file:", "data:")) for url in probe.requests)


def test_served_map_over_http(browser: Browser, data: PatrolMapData, tmp_path: Path) -> None:
    page_file = tmp_path / "patrol.html"
    page_file.write_text(render_patrol_map(data, assets=served("/static/vendor")), encoding="utf-8")
    mounts = {f"/static/vendor/{sub}": path for sub, path in static_dirs().items()}
    mounts["/grids/640221202204001/patrol-map"] = page_file
    with serve(mounts) as base_url:
        url = f"{base_url}/grids/640221202204001/patrol-map"
        with open_page(url, browser=browser) as probe:
            check_patrol_map(probe, data, SCREENSHOT.with_name("patrol_map_served.png"))
            fetched = {r.removeprefix(base_url) for r in probe.requests if r.startswith(base_url)}
    assert {"/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css"} <= fetched
    assert "/static/vendor/leaflet/images/layers.png" in fetched


def test_osm_layer_is_the_only_way_out(browser: Browser, data: PatrolMapData, tmp_path: Path) -> None:
    """Choosing OpenStreetMap asks for tiles; the helper blocks and records every one."""
    page_file = tmp_path / "patrol.html"
    page_file.write_text(render_patrol_map(data, assets=inline()), encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser) as probe:
        wait_for_map(probe.page)
        assert probe.blocked_requests == []
        probe.page.evaluate(
            """() => {
                villageMap.map.removeLayer(villageMap.layers.base);
                villageMap.map.addLayer(villageMap.layers.osm);
            }"""
        )
        probe.page.wait_for_timeout(500)
        attribution = probe.page.locator(".leaflet-control-attribution").inner_text()
    assert probe.blocked_requests, "tile requests were made and blocked"
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in probe.blocked_requests)
    assert probe.failed_requests == [] and probe.page_errors == []
    assert "OpenStreetMap" in attribution and "VillageMap 样例数据" in attribution


def test_phone_sized_map_folds_the_legend(browser: Browser, data: PatrolMapData, tmp_path: Path) -> None:
    page_file = tmp_path / "patrol.html"
    page_file.write_text(render_patrol_map(data, assets=inline()), encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser, viewport=(390, 700)) as probe:
        wait_for_map(probe.page)
        summary = probe.page.locator(".vm-legend summary")
        assert summary.is_visible() and "图例" in summary.inner_text()
        assert probe.page.locator(".vm-legend-row").first.is_hidden()
        summary.click()
        assert probe.page.locator(".vm-legend-row").first.is_visible()
        assert "垃圾点" in probe.page.locator(".vm-legend").inner_text()
        probe.assert_clean()
