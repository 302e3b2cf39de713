"""The field pages with no signal (离线): the queue in IndexedDB, the service worker's copies, and
sending exactly once, in order, when the network returns (network toggled in headless Chromium)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import text

from tests.browser import open_phone
from tests.lifecycle import GRID, Crew, act, local_today, moved, point
from tests.mobile import FieldServer, camera_jpeg, events, field_server, geo, photo_file, queue_item, sign_in

SHOTS = Path("/tmp")
OPEN = "reported,registered,assigned,in_progress,resolved,suspended"


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("photos-offline"), "offline") as server:
        yield server


def _in_progress_for_grid_manager(field: FieldServer, crew: Crew, where: tuple[float, float]) -> int:
    """A case dispatched to the grid manager in person and started: theirs to resolve."""
    case_id = crew.new_case(point(where))
    act(field.client, crew.inspector, case_id, "register")
    act(field.client, crew.inspector, case_id, "assign", assignee={"user": "demo-grid-manager"})
    act(field.client, crew.grid_manager, case_id, "start")
    return case_id


def _cases_with(field: FieldServer, description: str) -> list[Any]:
    with field.sql() as conn:
        return list(conn.execute(text("SELECT id FROM cases WHERE description = :d"), {"d": description}).all())


def _report_offline(page: Page, base: str, site: tuple[float, float], description: str) -> None:
    page.goto(f"{base}/m/report")
    assert page.inner_text("#net") == "离线"
    page.set_input_files("#photo-file", files=photo_file(camera_jpeg(site, seed=1)))
    page.wait_for_function("() => document.querySelector('#place-info').textContent.includes('照片位置')")
    page.click('[data-code="garbage_point"]')
    page.click('#subtypes [data-value="垃圾堆"]')
    page.fill("#description", description)
    page.click("#submit")
    assert "待同步" in queue_item(page, "report", "pending")


def _resolve_offline(page: Page, base: str, site: tuple[float, float], case_id: int) -> None:
    page.goto(f"{base}/m/cases/{case_id}")
    page.wait_for_selector("#act-resolve:not([hidden])")
    assert "离线" in page.inner_text("#case-source")
    page.set_input_files("#resolve-photo", files=photo_file(camera_jpeg(site, size=(1200, 900), seed=2)))
    page.wait_for_function("() => !document.querySelector('#do-resolve').disabled")
    page.fill("#resolve-note", "已清运")
    page.click("#do-resolve")
    queue_item(page, f"case:{case_id}", "pending")


def _lose_the_first_answer(page: Page) -> list[str]:
    """The first report reaches the server, but its answer never reaches the phone; keys seen are listed."""
    calls: list[str] = []

    def answer_lost_once(route: Route) -> None:
        calls.append(route.request.headers.get("idempotency-key", ""))
        if len(calls) == 1:
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.context.route("**/m/api/reports", answer_lost_once)  # pages and the service worker alike
    return calls


def test_offline_report_and_resolve_reach_the_server_once_in_order(
    field: FieldServer, browser: Browser, crew: Crew, here: tuple[float, float]
) -> None:
    site = moved(here, 30, 70)
    case_id = _in_progress_for_grid_manager(field, crew, site)
    description = f"离线上报 {uuid.uuid4().hex[:8]}"
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(moved(site, 0, 10), 8)) as probe:
        page = probe.page
        sign_in(page, field.url, "demo-grid-manager")
        page.goto(f"{field.url}/m/cases/{case_id}")  # opened once online: kept by the service worker
        page.wait_for_selector("#act-resolve:not([hidden])")
        page.context.set_offline(True)
        _report_offline(page, field.url, site, description)
        _resolve_offline(page, field.url, site, case_id)
        page.goto(f"{field.url}/m/")
        page.wait_for_selector('[data-queue=""] li[data-status="pending"] >> nth=1')
        page.screenshot(path=str(SHOTS / "mobile_queue_offline.png"), full_page=True)
        assert _cases_with(field, description) == []
        assert field.client.get(f"/cases/{case_id}").json()["properties"]["status"] == "in_progress"
        calls = _lose_the_first_answer(page)
        page.context.set_offline(False)
        page.wait_for_selector('[data-queue=""] li[data-status="done"] >> nth=1', timeout=40_000)
        assert not page.query_selector('[data-queue=""] li:not([data-status="done"])')
        assert len(calls) == 2 and calls[0] == calls[1] and calls[0].startswith("vm-")
        unexpected = [f for f in probe.failed_requests if "/m/api/reports" not in f]
        assert not unexpected and not probe.blocked_requests and not probe.page_errors and not probe.dialogs
        assert not [e for e in probe.console_errors if "/m/api/reports" not in e and "ERR_" not in e]
    reported = _cases_with(field, description)
    assert len(reported) == 1, "the retried report was replayed, not stored twice"
    with field.sql() as conn:
        report_event = events(conn, reported[0].id)[0]
        resolves = [e for e in events(conn, case_id) if e.action == "resolve"]
    assert len(resolves) == 1 and resolves[0].photo_ids and report_event.id < resolves[0].id, "sent in order"
    assert field.client.get(f"/cases/{case_id}").json()["properties"]["status"] == "resolved"


def _expected_order(field: FieldServer, crew: Crew) -> list[int]:
    features: list[dict[str, Any]] = []
    url: str | None = f"/cases?mine=true&status={OPEN}&limit=1000"
    while url:
        page = field.client.get(url, headers=crew.grid_manager).json()
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    key = [(not f["properties"]["overdue"], f["properties"]["deadline"] or "9999-99-99", f["id"]) for f in features]
    return [k[2] for k in sorted(key)]


def _route_order_when_the_server_has_it(
    field: FieldServer, crew: Crew, page: Page, here: tuple[float, float], by_deadline: list[int]
) -> None:
    """Sorting by the patrol route is offered only when GET /grids/{grid}/patrol-route exists, and follows its stops."""
    if not field.client.get("/m/api/features").json()["patrol_route"]:
        assert page.is_disabled("#sort-route")
        return
    page.wait_for_function("() => !document.querySelector('#sort-route').disabled", timeout=30_000)
    page.click("#sort-route")
    start = f"{here[0]:.6f},{here[1]:.6f}"
    route = field.client.get(f"/grids/{GRID}/patrol-route", params={"start": start}, headers=crew.grid_manager)
    stops = sorted((f["properties"]["seq"], f["properties"]["case_id"]) for f in route.json()["features"]
                   if f["geometry"]["type"] == "Point" and f["properties"].get("case_id") is not None)  # fmt: skip
    on_route = [case_id for _seq, case_id in stops if case_id in by_deadline]
    expected = on_route + [i for i in by_deadline if i not in on_route]
    shown = [int(i) for i in page.eval_on_selector_all("#cases .card", "cards => cards.map(c => c.dataset.caseId)")]
    assert shown == expected
    page.click("#sort-deadline")


def test_worklist_overdue_first_by_deadline_and_readable_offline(
    field: FieldServer, browser: Browser, crew: Crew, here: tuple[float, float]
) -> None:
    for days, azimuth in ((9, 10), (2, 100)):
        case_id = crew.new_case(point(moved(here, azimuth, 90)))
        deadline = (local_today() + timedelta(days=days)).isoformat()
        act(field.client, crew.inspector, case_id, "register")
        act(field.client, crew.inspector, case_id, "assign", assignee={"user": "demo-grid-manager"}, deadline=deadline)
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(here, 12)) as probe:
        page = probe.page
        sign_in(page, field.url, "demo-grid-manager")
        page.goto(f"{field.url}/m/worklist")
        page.wait_for_selector("#cases .card")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#cases .dist')].every(d => /\\d/.test(d.textContent))"
        )
        shown = [int(i) for i in page.eval_on_selector_all("#cases .card", "cards => cards.map(c => c.dataset.caseId)")]
        assert shown == _expected_order(field, crew)
        overdue = page.eval_on_selector_all("#cases .card", "cards => cards.map(c => c.dataset.overdue === 'true')")
        assert overdue == sorted(overdue, reverse=True) and any(overdue), "the sample has overdue cases here"
        page.screenshot(path=str(SHOTS / "mobile_worklist.png"))
        _route_order_when_the_server_has_it(field, crew, page, here, shown)
        page.wait_for_function(
            f"() => caches.open('vm-data').then(c => c.match('/m/patrol/{GRID}')).then(r => !!r)", timeout=20_000
        )
        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("#cases .card")
        assert "离线" in page.inner_text("#list-info")
        offline_shown = page.eval_on_selector_all("#cases .card", "cards => cards.map(c => Number(c.dataset.caseId))")
        assert offline_shown == shown
        page.goto(f"{field.url}/m/patrol/{GRID}")
        page.wait_for_function("() => window.L && document.querySelector('.vm-m-back')")
        assert "巡查图" in page.title()
        page.screenshot(path=str(SHOTS / "mobile_patrol_offline.png"))
        page.context.set_offline(False)
        probe.assert_clean()


def test_without_a_service_worker_the_queue_still_sends_while_the_page_is_open(
    field: FieldServer, browser: Browser, here: tuple[float, float]
) -> None:
    description = f"无 SW 上报 {uuid.uuid4().hex[:8]}"
    spot = moved(here, 250, 45)
    with open_phone(f"{field.url}/m/", browser=browser, geolocation=geo(spot, 9), service_workers="block") as probe:
        page = probe.page
        sign_in(page, field.url, "demo-grid-manager", worker=False)
        page.goto(f"{field.url}/m/report")
        page.wait_for_selector("#no-sw:not([hidden])")
        page.wait_for_function("() => document.querySelector('#place-info').textContent.includes('手机定位')")
        page.context.set_offline(True)
        page.click('[data-code="ruined_wall"]')
        page.fill("#description", description)
        page.click("#submit")
        queue_item(page, "report", "pending")
        assert _cases_with(field, description) == []
        page.context.set_offline(False)
        queue_item(page, "report", "done")
        probe.assert_clean()
    assert len(_cases_with(field, description)) == 1
