"""Field pages (移动端 H5) in headless Chromium on a 360 × 640 phone with emulated GPS: reporting,
on-site close-out, the live distance against PostGIS, and what each role may see."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import text

from tests.browser import open_phone
from tests.lifecycle import GRID, Crew, moved, point, upload
from tests.mobile import (
    FieldServer,
    assert_clean_except,
    camera_jpeg,
    events,
    field_server,
    geo,
    photo_file,
    queue_item,
    sign_in,
)

SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("photos-mobile"), "mobile") as server:
        yield server


def _case_by_description(field: FieldServer, description: str) -> Any:
    with field.sql() as conn:
        rows = conn.execute(
            text("SELECT id, grid_code, subtype, attributes, ST_X(geom) AS lon, ST_Y(geom) AS lat, created_by, "
                 "possible_duplicates FROM cases WHERE description = :d"), {"d": description}
        ).all()  # fmt: skip
    assert len(rows) == 1, rows
    return rows[0]


def test_report_with_photo_and_gps_lands_in_the_right_grid(
    field: FieldServer, browser: Browser, here: tuple[float, float]
) -> None:
    gps, taken_at = moved(here, 0, 5), moved(here, 90, 10)
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(gps, 8)) as probe:
        page = probe.page
        page.screenshot(path=str(SHOTS / "mobile_signin.png"))
        sign_in(page, field.url, "demo-grid-manager")
        page.screenshot(path=str(SHOTS / "mobile_home.png"))
        page.goto(f"{field.url}/m/report")
        page.wait_for_function("() => document.querySelector('#place-info').textContent.includes('手机定位')")
        page.set_input_files("#photo-camera", files=photo_file(camera_jpeg(taken_at)))
        page.wait_for_function("() => document.querySelector('#place-info').textContent.includes('照片位置')")
        assert "1600×1067" in page.inner_text("#photo-info")
        page.click('[data-code="garbage_point"]')
        page.click('#subtypes [data-value="草堆"]')
        page.click('#attribute-box [data-value="路边"]')
        description = f"路边草堆 {uuid.uuid4().hex[:8]}"
        page.fill("#description", description)
        page.screenshot(path=str(SHOTS / "mobile_report.png"), full_page=True)
        page.click("#submit")
        sent = queue_item(page, "report", "done")
        assert "已同步" in sent and GRID in sent
        probe.assert_clean()
    case = _case_by_description(field, description)
    assert case.grid_code == GRID and case.subtype == "草堆" and case.attributes == {"edge": "路边"}
    assert (case.lon, case.lat) == pytest.approx(taken_at, abs=2e-7), "photo first: the EXIF position is used"
    with field.sql() as conn:
        photo = conn.execute(
            text("SELECT p.width, p.height, ST_X(p.exif_position) AS lon, ST_Y(p.exif_position) AS lat, "
                 "to_char(p.exif_time AT TIME ZONE 'Asia/Shanghai', 'YYYY:MM:DD HH24:MI:SS') AS taken "
                 "FROM case_event e JOIN photo p ON p.id = e.photo_ids[1] "
                 "WHERE e.case_id = :i AND e.action = 'report'"),
            {"i": case.id},
        ).one()  # fmt: skip
    assert max(photo.width, photo.height) == 1600, "resized on the phone to at most 1600 px"
    assert (photo.lon, photo.lat) == pytest.approx(taken_at, abs=1e-6) and photo.taken == "2024:05:01 10:20:30"


def test_anonymous_villager_sees_duplicates_and_answers_the_check(
    field: FieldServer, browser: Browser, crew: Crew, here: tuple[float, float]
) -> None:
    spot = moved(here, 200, 40)
    existing = crew.new_case(point(spot), description="已有的垃圾堆")
    with open_phone(f"{field.url}/m/report", browser=browser, geolocation=geo(moved(spot, 0, 8), 10)) as probe:
        page = probe.page
        page.wait_for_function("() => /\\d+ \\+ \\d+/.test(document.querySelector('#human-question').textContent)")
        assert not page.is_hidden("#anonymous-step")
        page.click('[data-code="garbage_point"]')
        page.wait_for_selector(f'#nearby [data-case-id="{existing}"]')
        assert "同类问题未结案" in page.inner_text("#nearby-info")
        a, b = (int(n) for n in re.findall(r"(\d+) \+ (\d+)", page.inner_text("#human-question"))[0])
        page.fill("#human-answer", str(a + b))
        description = f"村民上报 {uuid.uuid4().hex[:8]}"
        page.fill("#description", description)
        page.fill("#reporter-phone", "13700000000")
        page.click("#submit")
        queue_item(page, "report", "done")
        probe.assert_clean()
    case = _case_by_description(field, description)
    assert case.created_by is None and existing in case.possible_duplicates and case.grid_code == GRID


def _forced_close_from_far(page: Page, field: FieldServer, case_id: int, far: tuple[float, float]) -> None:
    """At 150 m the button stays disabled; enabled by force, the server refuses and the item says why."""
    page.set_input_files("#close-photo", files=photo_file(camera_jpeg(far, size=(800, 600))))
    page.wait_for_selector("#close-preview:not([hidden])")
    page.wait_for_selector("#live.outside")
    assert float(page.get_attribute("#live", "data-distance") or "nan") == pytest.approx(150, abs=1)
    assert page.is_disabled("#do-close")
    page.evaluate("document.querySelector('#do-close').disabled = false")
    page.click("#do-close")
    refused = queue_item(page, f"case:{case_id}", "failed")
    assert "超出结案范围" in refused and "150" in refused
    with field.sql() as conn:
        assert [e.action for e in events(conn, case_id)].count("close") == 0


def test_close_out_only_inside_the_radius_and_the_server_checks_again(
    field: FieldServer, browser: Browser, crew: Crew, here: tuple[float, float]
) -> None:
    site = moved(here, 300, 60)
    case_id = crew.new_case(point(site))
    crew.to_state(case_id, "resolved")
    far, near = moved(site, 45, 150), moved(site, 45, 30)
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(far, 10)) as probe:
        page = probe.page
        sign_in(page, field.url, "demo-inspector")
        page.goto(f"{field.url}/m/worklist")
        page.wait_for_selector(f'#cases [data-case-id="{case_id}"]')
        statuses = page.eval_on_selector_all("#cases .card", "cards => cards.map(c => c.dataset.status)")
        assert set(statuses) == {"resolved"}, "an inspector's worklist: resolved cases waiting for the check"
        page.goto(f"{field.url}/m/cases/{case_id}")
        page.wait_for_selector("#act-close:not([hidden])")
        _forced_close_from_far(page, field, case_id, far)
        page.context.set_geolocation(geo(near, 6))
        page.wait_for_selector("#live.inside")
        page.wait_for_function("() => !document.querySelector('#do-close').disabled")
        assert float(page.get_attribute("#live", "data-distance") or "nan") == pytest.approx(30, abs=1)
        page.screenshot(path=str(SHOTS / "mobile_case_close.png"), full_page=True)
        page.click("#do-close")
        queue_item(page, f"case:{case_id}", "done")
        page.wait_for_function("() => document.querySelector('#case-facts').textContent.includes('已结案')")
        assert_clean_except(probe, {f"/cases/{case_id}/close": 422})
    with field.sql() as conn:
        close = next(e for e in events(conn, case_id) if e.action == "close")
    assert (close.lon, close.lat) == pytest.approx(near, abs=2e-7) and close.accuracy_m == pytest.approx(6)
    assert close.data["distance_m"] == pytest.approx(30, abs=0.5)
    assert field.client.get(f"/cases/{case_id}").json()["properties"]["status"] == "closed"


def _distance_pairs(site: tuple[float, float]) -> list[tuple[dict[str, Any], tuple[float, float]]]:
    """Geometries (a point, a line with a 4 km segment, a polygon) and phone positions up to ~200 m away."""
    line = {"type": "LineString", "coordinates": [list(moved(site, 270, 2000)), list(moved(site, 90, 2000)),
                                                   list(moved(moved(site, 90, 2000), 20, 900))]}  # fmt: skip
    corners = [moved(site, az, 140) for az in (45, 135, 225, 315, 45)]
    polygon = {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}
    pairs = []
    for geom in (point(site), line, polygon):
        for azimuth in (0, 33, 90, 151, 208, 270, 333):
            for metres in (0, 4, 25, 60, 110, 160, 200):
                pairs.append((geom, moved(site, azimuth, metres)))
    return pairs


def test_live_distance_on_the_phone_matches_postgis(
    field: FieldServer, browser: Browser, here: tuple[float, float]
) -> None:
    pairs = _distance_pairs(here)
    with open_phone(f"{field.url}/m/report", browser=browser, geolocation=geo(here, 5)) as probe:
        phone = probe.page.evaluate(
            "pairs => pairs.map(([g, p]) => VM.geo.distance(g, p[0], p[1]))", [[g, list(p)] for g, p in pairs]
        )
        probe.assert_clean()
    with field.sql() as conn:
        server = [
            conn.execute(
                text("SELECT ST_Distance(ST_GeomFromGeoJSON(:g)::geography, ST_MakePoint(:x, :y)::geography)"),
                {"g": json.dumps(g), "x": p[0], "y": p[1]},
            ).scalar_one()
            for g, p in pairs
        ]
    compared = [(s, f) for s, f in zip(server, phone, strict=True) if s <= 200]
    assert len(compared) > 60
    worst = max(abs(s - f) for s, f in compared)
    assert worst <= 1.0, f"phone and PostGIS differ by {worst:.3f} m"
    assert any(s == 0 for s, _ in compared), "points inside the polygon are at 0 m"


def test_each_role_sees_only_its_view(
    field: FieldServer, browser: Browser, crew: Crew, here: tuple[float, float]
) -> None:
    phone, name, secret = "13955556666", "钱某", f"院里危房 {uuid.uuid4().hex[:6]}"
    house = crew.new_case(point(moved(here, 120, 50)), category="dilapidated_house",
                          reporter={"name": name, "phone": phone}, description=secret,
                          photo_ids=[upload(field.client, crew.grid_manager)])  # fmt: skip
    with open_phone(f"{field.url}/m/cases/{house}", browser=browser, geolocation=geo(here, 10)) as probe:
        page = probe.page
        page.wait_for_function("() => document.querySelector('#case-facts').textContent.includes('危房')")
        shown = page.inner_text("body")
        assert phone not in shown and name not in shown and secret not in shown and "只公开到村" in shown
        assert not any("/photos" in url for url in probe.requests)
        probe.assert_clean()
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(here, 10)) as probe:
        sign_in(probe.page, field.url, "demo-contractor")
        probe.page.goto(f"{field.url}/m/cases/{house}")
        probe.page.wait_for_function("() => document.querySelector('#case-facts').textContent.includes('危房')")
        assert phone not in probe.page.inner_text("body") and probe.page.is_hidden("#actions")
        probe.assert_clean()
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(here, 10)) as probe:
        sign_in(probe.page, field.url, "demo-grid-manager")
        probe.page.goto(f"{field.url}/m/cases/{house}")
        probe.page.wait_for_selector("#photos img")
        assert phone in probe.page.inner_text("#case-facts") and secret in probe.page.inner_text("#case-description")
        probe.assert_clean()
