"""The first patrol map (巡查图) end to end: PostGIS → API/CLI → HTML → an offline Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from api.cli import app as cli
from gis.lifecycle import OPEN_STATUSES
from gis.settings import Settings
from tests.browser import open_page

GRID = "640221202204001"
MAP_URL = f"/grids/{GRID}/patrol-map"

OPEN_PUBLIC_CASES = text("""
SELECT c.code, cat.label_zh FROM cases c JOIN category cat ON cat.code = c.category
JOIN region g ON g.code = :grid
WHERE c.status = ANY (:open) AND NOT cat.private_location
  AND (c.grid_code = g.code OR ST_Intersects(c.geom, g.geom))
ORDER BY c.id
""")


def open_cases(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(OPEN_PUBLIC_CASES, {"grid": GRID, "open": list(OPEN_STATUSES)}).all()
    return [(str(code), str(label)) for code, label in rows]


def test_patrol_map_page(client: TestClient, conn: Connection) -> None:
    response = client.get(MAP_URL)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>渠口乡 金桥村第1网格 巡查图</title>" in html
    expected = open_cases(conn)
    assert len(expected) >= 5, "the sample puts work on this grid"
    for code, _label in expected:
        assert code in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/vendor/") for s in sources), sources
    assert "Vonng/adcode" in html


def test_assets_are_served_locally(client: TestClient) -> None:
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert client.get("/static/vendor/leaflet/images/marker-icon.png").status_code == 200


def test_download_is_one_self_contained_file(client: TestClient) -> None:
    response = client.get(f"{MAP_URL}?download=true")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="patrol-map-{GRID}.html"'
    assert "/static/vendor" not in response.text and "<script src=" not in response.text


@pytest.mark.parametrize(
    ("code", "status"), [("640221202204099", 404), ("640221202204", 404), ("64022120220400x", 400)]
)
def test_patrol_map_errors(client: TestClient, code: str, status: int) -> None:
    response = client.get(f"/grids/{code}/patrol-map")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail_zh"]


def test_case_text_is_escaped(client: TestClient, conn: Connection) -> None:
    conn.execute(
        text("""
        INSERT INTO cases (code, category, geom, county_code, township_code, village_code, grid_code,
                           status, title, description, reported_at, source)
        SELECT 'XSS-1', 'garbage_point', ST_PointOnSurface(geom), left(code, 6), left(code, 9),
               left(code, 12), code, 'registered', '<script>alert(1)</script>', '{{ 7*7 }} <b>x</b>', now(), 'app'
        FROM region WHERE code = :grid
        """),
        {"grid": GRID},
    )
    html = client.get(MAP_URL).text
    assert "XSS-1" in html
    assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html
    assert "{{ 7*7 }}" in html, "template syntax in a description is kept as text"
    assert not re.search(r"49\s*(<|&lt;|\\u003c)b", html), "…and never evaluated (7*7 → 49)"


def _click_an_uncovered_case(page: Page) -> None:
    """Click the last case marker a user can reach (a numbered stop may sit on top of a case)."""
    cases = page.locator("[data-case-id]").all()
    for marker in reversed(cases):
        try:
            marker.click(trial=True, timeout=500)  # actionability only: fails when something covers it
        except PlaywrightTimeout:
            continue
        marker.click()
        return
    raise AssertionError(f"every one of the {len(cases)} case markers is covered by another element")


def _check_live_map(page: Page, expected: list[tuple[str, str]]) -> None:
    page.wait_for_function("() => window.L && window.villageMap && villageMap.map")
    page.wait_for_timeout(500)
    assert page.evaluate("L.version") == "1.9.4"
    drawn = page.evaluate("() => Object.values(villageMap.cases).reduce((n, l) => n + l.getLayers().length, 0)")
    assert drawn == len(expected)
    assert page.locator("[data-case-id]").count() == len(expected)
    legend = page.locator(".vm-legend").inner_text()
    for _code, label in expected:
        assert label in legend
    popup = page.locator(".leaflet-popup-content")
    _click_an_uncovered_case(page)
    popup.wait_for(state="visible", timeout=3000)
    text_shown = popup.inner_text()
    assert any(code in text_shown and label in text_shown for code, label in expected), text_shown
    assert re.search("已上报|已立案|已派遣|处置中|处置完毕|挂账", text_shown)


def test_patrol_map_in_an_offline_browser(browser: Browser, live_url: str, conn: Connection) -> None:
    expected = open_cases(conn)
    with open_page(live_url + MAP_URL, browser=browser) as probe:
        _check_live_map(probe.page, expected)
        probe.page.wait_for_timeout(600)
        probe.page.screenshot(path="/tmp/vm_patrol_live.png")
        probe.assert_clean()


def test_home_page_in_an_offline_browser(browser: Browser, live_url: str) -> None:
    with open_page(live_url + "/", browser=browser) as probe:
        page = probe.page
        assert "乡村人居环境整治" in page.title()
        assert "渠口乡" in page.locator("main").inner_text()
        page.locator(f'a[href="{MAP_URL}"]').click()
        page.wait_for_function("() => window.villageMap && villageMap.map")
        assert page.url.endswith(MAP_URL)
        probe.assert_clean()


def test_render_map_command(browser: Browser, settings: Settings, conn: Connection, tmp_path: Path) -> None:
    out = tmp_path / "patrol.html"
    env = {"VILLAGEMAP_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(cli, ["render-map", GRID, "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "/static/vendor" not in html and "金桥村" in html
    with open_page(out.as_uri(), browser=browser) as probe:
        _check_live_map(probe.page, open_cases(conn))
        probe.assert_clean()
    missing = CliRunner().invoke(cli, ["render-map", "640221202204099", "-o", str(tmp_path / "x.html")], env=env)
    assert missing.exit_code == 1 and "不存在" in missing.output


def test_render_map_in_a_users_view_with_a_stop_list(settings: Settings, conn: Connection, tmp_path: Path) -> None:
    env = {"VILLAGEMAP_DATABASE_URL": settings.database_url}
    out, stops = tmp_path / "patrol.html", tmp_path / "stops.html"
    args = ["render-map", GRID, "-o", str(out), "--user", "demo-grid-manager", "--stop-list", str(stops)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    private = (
        conn.execute(
            text("""SELECT c.code FROM cases c JOIN category cat ON cat.code = c.category
                WHERE c.grid_code = :g AND cat.private_location AND c.status = ANY (:open)"""),
            {"g": GRID, "open": list(OPEN_STATUSES)},
        )
        .scalars()
        .all()
    )
    page = out.read_text(encoding="utf-8")
    assert private and all(code in page for code in private), "the grid manager's view has 危房/户厕"
    listed = stops.read_text(encoding="utf-8")
    assert "巡查清单" in listed and listed.count('<span class="vm-tick">') >= len(open_cases(conn))
    public = CliRunner().invoke(cli, ["render-map", GRID, "-o", str(tmp_path / "public.html"), "--no-route"], env=env)
    assert public.exit_code == 0 and not any(code in (tmp_path / "public.html").read_text() for code in private)
    nobody = CliRunner().invoke(cli, ["render-map", GRID, "-o", str(out), "--user", "nobody"], env=env)
    assert nobody.exit_code == 1 and "nobody" in nobody.output
