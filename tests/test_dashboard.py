"""Office pages in headless Chromium (驾驶舱与通报页面): figures, charts, maps, lists, printing, offline."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser
from sqlalchemy import Engine, text

from gis.access import ANONYMOUS
from gis.bulletin import monthly_bulletin
from gis.periods import current_month
from gis.xlsx import percent
from tests.browser import PageProbe, open_page

QUKOU = "640221202"
SHOTS = Path("/tmp")


def token(base: str, username: str) -> str:
    data = urllib.parse.urlencode({"username": username, "password": "demo"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/auth/token", data=data), timeout=30) as response:
        found: str = json.loads(response.read())["access_token"]
    return found


def signed_in(probe: PageProbe, base: str, username: str, path: str) -> None:
    """Reload the probe's page with a bearer token (the office pages read it like any API call)."""
    probe.page.set_extra_http_headers({"Authorization": f"Bearer {token(base, username)}"})
    probe.page.goto(base + path, wait_until="load")


def test_dashboard_live_figures_charts_map_and_links(live_url: str, browser: Browser, engine: Engine) -> None:
    with engine.connect() as conn:
        expected = monthly_bulletin(conn, QUKOU, current_month(), ANONYMOUS)
    with open_page(f"{live_url}/dashboard?area={QUKOU}", browser=browser, viewport=(1280, 900)) as probe:
        page = probe.page
        assert "渠口乡" in page.title() and "驾驶舱" in page.title()
        f = expected["figures"]
        shown = {el.get_attribute("data-figure"): el.inner_text() for el in page.locator("[data-figure]").all()}
        assert shown["reported"] == str(f["reported"]) and shown["due"] == str(f["due"])
        assert shown["closure_rate"] == percent(f["closure_rate"]) and shown["overdue"] == str(f["overdue"])
        assert page.locator("svg.vm-svg-map path").count() == 13
        assert page.locator("svg.vm-svg-chart rect.vm-bar").count() == 24
        assert page.locator("#vm-ranking tr.red").count() >= 1
        assert page.locator("#vm-overdue").count() == 0, "the public sees no case list"
        if f["overdue"]:
            assert page.locator("#vm-overdue-hidden").is_visible()
        hrefs = page.locator("#vm-links a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert f"/exports/ledger.xlsx?area={QUKOU}" in hrefs and any("f=xlsx" in h for h in hrefs)
        page.screenshot(path=str(SHOTS / "dashboard_public.png"), full_page=True)
        probe.assert_clean()
        signed_in(probe, live_url, "demo-viewer", f"/dashboard?area={QUKOU}")
        rows = page.locator("#vm-overdue tr").count() - 1
        assert rows == min(expected["overdue"]["total"], 50) and rows > 0
        page.screenshot(path=str(SHOTS / "dashboard_viewer.png"), full_page=True)
        probe.assert_clean()


def test_bulletin_page_prints(live_url: str, browser: Browser, engine: Engine) -> None:
    with open_page(f"{live_url}/bulletins/{QUKOU}/2022-01.html", browser=browser, viewport=(1100, 900)) as probe:
        page = probe.page
        assert page.locator("h1").inner_text() == "渠口乡 2022年1月 月度通报"
        assert page.locator("#vm-members tr").count() == 14
        page.emulate_media(media="print")
        assert not page.locator(".noprint").first.is_visible()
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        (SHOTS / "bulletin_print.pdf").write_bytes(pdf)
        page.emulate_media(media="screen")
        page.screenshot(path=str(SHOTS / "bulletin.png"), full_page=True)
        probe.assert_clean()
    with engine.connect() as conn:
        winter = conn.execute(text("SELECT id FROM campaign WHERE area_code = :a"), {"a": QUKOU}).scalar_one()
    with open_page(f"{live_url}/campaigns/{winter}/attainment?f=html", browser=browser, viewport=(1280, 900)) as probe:
        page = probe.page
        assert page.locator("#vm-attainment tr[data-code]").count() == 13
        assert page.locator("svg.vm-svg-map path").count() == 13
        fills = set(page.locator("svg.vm-svg-map path").evaluate_all("els => els.map(e => e.getAttribute('fill'))"))
        assert len(fills) > 1, "villages are coloured by their attainment"
        page.screenshot(path=str(SHOTS / "attainment.png"), full_page=True)
        probe.assert_clean()
    with open_page(f"{live_url}/rankings/red-black?area={QUKOU}&period=2022-01&f=html", browser=browser) as probe:
        assert probe.page.locator("#vm-ranking tr.red").count() == 2
        assert probe.page.locator("#vm-black li").count() == 1
        probe.assert_clean()


SCORED_MONTHS = text(
    "SELECT count(DISTINCT s.month) FROM contractor_score s JOIN unit u ON u.id = s.unit_id"
    " WHERE u.code = '640221202-erquan'"
)


def test_campaign_list_scores_and_standard_html_pages(live_url: str, browser: Browser, engine: Engine) -> None:
    """The remaining HTML pages (行动列表、考核、OGC 页面) load offline, clean, with their rows."""
    with engine.connect() as conn:
        campaigns = int(conn.execute(text("SELECT count(*) FROM campaign")).scalar_one())
        scored = int(conn.execute(SCORED_MONTHS).scalar_one())
    with open_page(f"{live_url}/campaigns?f=html", browser=browser) as probe:
        assert probe.page.locator("main table tr").count() == campaigns + 1 and campaigns > 0
        assert "整治行动" in probe.page.locator("h2").inner_text()
        probe.assert_clean()
    with open_page(f"{live_url}/", browser=browser) as probe:
        signed_in(probe, live_url, "demo-inspector", "/contractors/640221202-erquan/scores?f=html")
        assert probe.page.locator("#vm-scores tr[data-month]").count() == scored > 0
        assert "月度考核" in probe.page.locator("h2").inner_text()
        probe.assert_clean()
    for path, rows in (
        ("/collections?f=html", "table tr"),
        ("/collections/garbage_point_points/items?f=html", "table tr"),
    ):
        with open_page(live_url + path, browser=browser) as probe:
            assert probe.page.locator(rows).count() > 1, path
            assert probe.page.locator("h1").inner_text().strip(), path
            probe.assert_clean()
