"""Every map page in headless Chromium with no network (地图页面浏览器测试): the patrol map with its
route, stops, print list and controls; the Gaode (GCJ-02) view; the single-file download; the
projects, close-out and overview maps; the stop list and the not-patrolled list."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Geolocation, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import Connection, text

from gis.crs import Datum, from_wgs84
from maps.assets import static_dirs
from tests.browser import PageProbe, open_page, open_phone, serve
from tests.lifecycle import GRID, Crew, jpeg, login, moved, point, upload

MAP = f"/grids/{GRID}/patrol-map"
SHOTS = Path("/tmp")


def get_json(url: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
        found: dict[str, Any] = json.loads(response.read())
    return found


def live_token(base: str, username: str) -> str:
    data = urllib.parse.urlencode({"username": username, "password": "demo"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/auth/token", data=data), timeout=30) as response:
        found: str = json.loads(response.read())["access_token"]
    return found


def ready(page: Page) -> None:
    page.wait_for_function("() => window.L && window.villageMap && villageMap.map")
    page.wait_for_timeout(600)


def open_popup(page: Page, selector: str) -> str:
    """Click a drawn feature and return its popup text (retrying while the map settles)."""
    popup = page.locator(".leaflet-popup-content")
    for _ in range(6):
        page.locator(selector).last.dispatch_event("click")  # what lies on top (a stop's pin) does not matter
        page.wait_for_timeout(200)
        if popup.is_visible():
            page.wait_for_timeout(300)
            return popup.inner_text()
        page.wait_for_timeout(300)
    raise AssertionError(f"no popup for {selector}")


def stops_of(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in route["features"] if f["geometry"]["type"] == "Point"]


# ---- the patrol map -------------------------------------------------------------------------------


def popup_image_width(page: Page, selector: str) -> int:
    """The natural width of the open popup's image once it has loaded (0 if broken, -1 if none)."""
    width: int = page.evaluate(
        """(selector) => new Promise((resolve) => {
            const img = document.querySelector('.leaflet-popup-content ' + selector);
            if (!img) { resolve(-1); return; }
            if (img.complete) { resolve(img.naturalWidth); return; }
            img.onload = () => resolve(img.naturalWidth); img.onerror = () => resolve(0);
        })""",
        selector,
    )
    return width


def test_patrol_map_route_stops_arrows_popups_and_print(browser: Browser, live_url: str) -> None:
    route = get_json(f"{live_url}/grids/{GRID}/patrol-route")
    stops = stops_of(route)
    with open_page(live_url + MAP, browser=browser, viewport=(1200, 850)) as probe:
        page = probe.page
        ready(page)
        drawn = page.evaluate("""() => ({
            route: villageMap.map.hasLayer(villageMap.layers.route),
            stops: villageMap.layers.stops.getLayers()[0].getLayers().length,
            arrows: window.vmRouteArrows.getLayers().length,
            line: villageMap.layers.route.getLayers()[0].getLayers()[0].getLatLngs().length
        })""")
        assert drawn["route"] and drawn["stops"] == len(stops) and drawn["arrows"] > 0
        assert drawn["line"] == len(line := next(f for f in route["features"] if f["geometry"]["type"] != "Point")
                                    ["geometry"]["coordinates"])  # fmt: skip
        assert page.locator("[data-stop-seq]").count() == len(stops) and len(line) > len(stops)
        for name in (".vm-fullscreen", ".vm-locate", ".vm-print-button"):
            assert page.locator(name).is_visible()
        first = stops[0]["properties"]
        shown = open_popup(page, '[data-stop-seq="1"]')
        assert "第 1 站" in shown and first["code"] in shown and "导航" in shown
        amap = page.locator(".leaflet-popup-content a.vm-nav-amap").get_attribute("href") or ""
        lon, lat = stops[0]["geometry"]["coordinates"]
        glon, glat = from_wgs84(lon, lat, Datum.GCJ02)
        position = urllib.parse.parse_qs(urllib.parse.urlsplit(amap).query)["position"][0].split(",")
        assert [float(v) for v in position] == pytest.approx([glon, glat], abs=2e-7)
        legend = page.locator(".vm-legend").inner_text()
        assert (
            "巡查路线" in legend and f"({len(stops)})" in legend and "示意图" in page.locator(".vm-notice").inner_text()
        )
        page.screenshot(path=str(SHOTS / "vm_patrol_route.png"))
        assert page.locator(".vm-print").is_hidden()
        page.emulate_media(media="print")
        assert page.locator(".vm-print").is_visible() and page.locator(".folium-map").is_hidden()
        assert page.locator(".vm-print tbody tr").count() == len(stops)
        page.emulate_media(media="screen")
        probe.assert_clean()


def case_latlng(page: Page, case_id: int) -> list[float]:
    found: list[float] = page.evaluate(
        """(id) => {
            for (const layer of Object.values(villageMap.cases)) {
                for (const l of layer.getLayers()) {
                    if (l.feature.id === id) { const p = l.getLatLng(); return [p.lng, p.lat]; }
                }
            }
            return null;
        }""",
        case_id,
    )
    return found


def test_gaode_view_puts_a_case_on_its_gcj02_position(browser: Browser, live_url: str) -> None:
    route = get_json(f"{live_url}/grids/{GRID}/patrol-route")
    stop = next(s for s in stops_of(route) if s["properties"]["access"] == "point")
    case_id, (lon, lat) = stop["properties"]["case_id"], stop["geometry"]["coordinates"]
    with open_page(live_url + MAP, browser=browser) as probe:
        ready(probe.page)
        assert case_latlng(probe.page, case_id) == pytest.approx([lon, lat], abs=1e-7)
        control = probe.page.locator(".leaflet-control-layers")
        control.hover()
        probe.page.get_by_text("高德地图 Gaode (GCJ-02)").click()
        probe.page.wait_for_url(re.compile(r"basemap=gaode"))
        ready(probe.page)
        shifted = case_latlng(probe.page, case_id)
        assert shifted == pytest.approx(list(from_wgs84(lon, lat, Datum.GCJ02)), abs=1e-7)
        assert abs(shifted[0] - lon) > 1e-3, "GCJ-02 is visibly off WGS84 here"
        me = probe.page.evaluate(f"window.vmShowPosition({lon}, {lat}, 10)")
        assert me == pytest.approx(list(from_wgs84(lon, lat, Datum.GCJ02)), abs=1e-7)
        assert "高德影像" in (probe.page.locator(".leaflet-control-layers").text_content() or "")
        probe.page.screenshot(path=str(SHOTS / "vm_patrol_gaode.png"))
        probe.assert_clean()


CENTRED = """([lng, lat]) => {
    const c = villageMap.map.getCenter();
    return Math.abs(c.lng - lng) < 1e-6 && Math.abs(c.lat - lat) < 1e-6;
}"""


def test_my_location_on_a_phone(browser: Browser, live_url: str, conn: Connection) -> None:
    lon, lat = conn.execute(text("SELECT ST_X(seat), ST_Y(seat) FROM region WHERE code = :v"), {"v": GRID[:12]}).one()
    spot: Geolocation = {"longitude": float(lon), "latitude": float(lat), "accuracy": 12}
    with open_phone(live_url + MAP, browser=browser, geolocation=spot, service_workers="block") as probe:
        ready(probe.page)
        probe.page.locator(".vm-locate a").click()
        probe.page.wait_for_selector("path.vm-my-location")
        with contextlib.suppress(PlaywrightTimeout):  # the pan to the position is animated; the assert tells
            probe.page.wait_for_function(CENTRED, arg=[float(lon), float(lat)], timeout=5000)
        at = probe.page.evaluate("villageMap.map.getCenter()")
        assert [at["lng"], at["lat"]] == pytest.approx([float(lon), float(lat)], abs=1e-6)
        probe.assert_clean()


def test_single_file_download_works_from_a_file_url(
    browser: Browser, client: TestClient, conn: Connection, tmp_path: Path
) -> None:
    crew = Crew(client)
    spot = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM region "
                             "WHERE code = :g) s"), {"g": GRID}).one()  # fmt: skip
    case_id = crew.new_case(point((float(spot[0]), float(spot[1]))), photo_ids=[upload(client, crew.grid_manager,
                                                                                         jpeg(seed=7))])  # fmt: skip
    response = client.get(f"{MAP}?download=true")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    page_file = tmp_path / "patrol.html"
    page_file.write_text(response.text, encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser) as probe:
        page = probe.page
        ready(page)
        assert page.locator("[data-stop-seq]").count() >= 5
        shown = open_popup(page, f'[data-case-id="{case_id}"]')
        assert "垃圾点" in shown and "巡查顺序" in shown
        assert popup_image_width(page, ".vm-thumb img") > 0, "the thumbnail is inlined"
        assert all(url.startswith(("file:", "data:")) for url in probe.requests)
        probe.assert_clean()


def test_staff_see_private_cases_and_their_latest_patrol(client: TestClient, conn: Connection) -> None:
    private = conn.execute(text("""
        SELECT c.code FROM cases c JOIN category cat ON cat.code = c.category
        WHERE c.grid_code = :g AND cat.private_location AND c.status <> ALL (ARRAY['closed', 'rejected'])
    """), {"g": GRID}).scalars().all()  # fmt: skip
    assert private, "the sample has 危房/户厕 cases in this grid"
    public = client.get(MAP).text
    assert not any(code in public for code in private) and '"patrol": feature_group' not in public
    manager = login(client, "demo-grid-manager")
    track = {"type": "LineString", "coordinates": [list(moved((106.6, 38.91), 90, k * 100)) for k in range(3)]}
    times = ["2022-01-05T09:00:00+08:00", "2022-01-05T09:10:00+08:00", "2022-01-05T09:20:00+08:00"]
    assert client.post("/patrols", json={"grid_code": GRID, "track": track, "times": times},
                       headers=manager).status_code == 201  # fmt: skip
    staff = client.get(MAP, headers=manager).text
    assert all(code in staff for code in private) and '"patrol": feature_group' in staff


# ---- the other maps ---------------------------------------------------------------------------------


def test_projects_map(browser: Browser, live_url: str, conn: Connection) -> None:
    by_status: dict[str, int] = dict(conn.execute(text(
        "SELECT status, count(*) FROM project WHERE category = 'road_project' AND county_code = '640302' GROUP BY 1"
    )).all())  # fmt: skip
    with open_page(f"{live_url}/maps/projects?kind=road&area=640302", browser=browser, viewport=(1400, 850)) as probe:
        page = probe.page
        ready(page)
        counts = page.evaluate("""() => Object.fromEntries(Object.entries(villageMap.layers)
            .filter(([k]) => k.startsWith('status_'))
            .map(([k, g]) => [k.slice(7), g.getLayers()[0].getLayers().length]))""")
        assert counts == by_status
        assert page.locator("path.vm-built").count() >= by_status.get("completed", 0)
        assert page.locator("path.vm-project").first.get_attribute("stroke-dasharray") == "10 7"
        totals = page.locator("#vm-totals tfoot td").all_inner_texts()
        assert totals[0].startswith("合计") and totals[1] == str(sum(by_status.values()))
        shown = open_popup(page, "[data-project-id]")
        assert "计划/已建" in shown and "牵头单位" in shown and "防护栏" in shown
        page.screenshot(path=str(SHOTS / "vm_projects.png"))
        probe.assert_clean()


def test_overview_map_rates_clusters_and_heat(browser: Browser, live_url: str, conn: Connection) -> None:
    area = "640221202"
    open_public = conn.execute(text("""
        SELECT count(*) FROM cases c JOIN category cat ON cat.code = c.category
        WHERE c.township_code = :a AND NOT cat.private_location
          AND c.status IN ('reported', 'registered', 'assigned', 'in_progress', 'resolved', 'suspended')
    """), {"a": area}).scalar_one()  # fmt: skip
    villages = conn.execute(text("SELECT count(*) FROM region WHERE level = 'village' AND parent_code = :a"),
                            {"a": area}).scalar_one()  # fmt: skip
    with open_page(f"{live_url}/maps/overview?area={area}", browser=browser) as probe:
        page = probe.page
        ready(page)
        assert page.evaluate("villageMap.layers.cluster.getLayers().length") == open_public
        assert page.locator("[data-village]").count() == villages
        assert page.locator(".marker-cluster").count() >= 1
        shown = open_popup(page, "[data-village]")
        assert "按期结案率" in shown
        assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
        page.evaluate("villageMap.map.addLayer(villageMap.layers.heat)")
        page.wait_for_selector("canvas.leaflet-heatmap-layer")
        page.screenshot(path=str(SHOTS / "vm_overview.png"))
        probe.assert_clean()


def test_closures_map_highlights_close_outs_near_the_limit(
    browser: Browser, client: TestClient, conn: Connection, tmp_path: Path
) -> None:
    crew = Crew(client)
    spot = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM region "
                             "WHERE code = :g) s"), {"g": GRID}).one()  # fmt: skip
    here = (float(spot[0]), float(spot[1]))
    case_id = crew.new_case(point(here))
    crew.to_state(case_id, "resolved")
    photo = upload(client, crew.inspector, jpeg(moved(here, 0, 90), seed=3))
    closed = client.post(f"/cases/{case_id}/close", headers=crew.inspector, json={
        "version": client.get(f"/cases/{case_id}").json()["properties"]["version"],
        "position": point(moved(here, 0, 90)), "accuracy_m": 5, "photo_ids": [photo]})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert client.get(f"/maps/closures?area={GRID[:12]}").status_code == 401
    response = client.get(f"/maps/closures?area={GRID[:12]}&download=true", headers=crew.inspector)
    assert response.status_code == 200
    closed_here = conn.execute(text("SELECT count(*) FROM cases WHERE status = 'closed' AND village_code = :v"),
                               {"v": GRID[:12]}).scalar_one()  # fmt: skip
    page_file = tmp_path / "closures.html"
    page_file.write_text(response.text, encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser) as probe:
        page = probe.page
        ready(page)
        assert page.evaluate("villageMap.layers.case.getLayers()[0].getLayers().length") == closed_here
        near = page.locator(f'[data-closure-id="{case_id}"][data-kind="link"]')
        assert near.get_attribute("stroke") == "#d00000"
        shown = open_popup(page, f'[data-closure-id="{case_id}"][data-kind="closeout"]')
        assert "接近限距" in shown and re.search(r"(89|90|91)\.\d 米 / 限 100 米", shown)
        assert popup_image_width(page, "img") > 0, "the close-out photo is inlined"
        probe.assert_clean()


def test_stop_list_and_unpatrolled_pages(browser: Browser, live_url: str, client: TestClient, tmp_path: Path) -> None:
    route = get_json(f"{live_url}/grids/{GRID}/patrol-route")
    with open_page(f"{live_url}/grids/{GRID}/patrol-list", browser=browser) as probe:
        assert probe.page.locator(".vm-print tbody tr").count() == len(stops_of(route))
        assert "巡查清单" in probe.page.title()
        probe.assert_clean()
    page = client.get("/patrols/unpatrolled?area=640221202204&f=html", headers=login(client, "demo-viewer"))
    page_file = tmp_path / "unpatrolled.html"
    page_file.write_text(page.text, encoding="utf-8")
    with open_page(page_file.as_uri(), browser=browser) as probe:
        assert probe.page.locator("tr[data-grid]").count() >= 1
        assert "本周未巡查网格" in probe.page.locator("h1").inner_text()
        probe.assert_clean()


def served_page(html: str, tmp_path: Path, path: str) -> tuple[dict[str, Path], str]:
    """Mounts that serve a page with VillageMap's vendor assets (for pages fetched via the test client)."""
    page_file = tmp_path / "page.html"
    page_file.write_text(html, encoding="utf-8")
    mounts = {f"/static/vendor/{sub}": directory for sub, directory in static_dirs().items()}
    return mounts | {path: page_file}, path


def test_served_pages_load_only_local_assets(browser: Browser, client: TestClient, tmp_path: Path) -> None:
    html = client.get("/maps/overview?area=640221202204").text
    mounts, path = served_page(html, tmp_path, "/maps/overview")
    with serve(mounts) as base, open_page(base + path, browser=browser) as probe:
        ready(probe.page)
        fetched = {u.removeprefix(base) for u in probe.requests if u.startswith(base)}
        assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in fetched
        assert "/static/vendor/leaflet.heat/leaflet-heat.js" in fetched
        check_clean(probe)


def check_clean(probe: PageProbe) -> None:
    probe.assert_clean()
    assert probe.blocked_requests == []
