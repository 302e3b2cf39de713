"""Roles and scopes (角色与数据范围): every allowed call works, every other is 401/403/404 and
changes nothing; scope is enforced on reads and writes alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.lifecycle import CONTRACTOR_UNIT, GRID, Crew, grid_point, local_today, login, moved, point, report, upload

ACCOUNTS = [
    "demo-grid-manager",
    "demo-inspector",
    "demo-village",
    "demo-water",
    "demo-roads",
    "demo-contractor",
    "demo-viewer",
    "demo-admin",
    None,
]

# action → (state the case must be in, accounts allowed to do it)
MATRIX: dict[str, tuple[str, set[str]]] = {
    "register": ("reported", {"demo-inspector", "demo-admin"}),
    "reject": ("reported", {"demo-inspector", "demo-admin"}),
    "assign": ("registered", {"demo-inspector", "demo-admin"}),
    "suspend": ("registered", {"demo-inspector", "demo-admin"}),
    "start": ("assigned", {"demo-contractor"}),
    "hand_back": ("assigned", {"demo-contractor"}),
    "extend": ("assigned", {"demo-contractor"}),
    "resolve": ("in_progress", {"demo-contractor"}),
    "close": ("resolved", {"demo-inspector"}),
    "return": ("resolved", {"demo-inspector"}),
    "reopen": ("closed", {"demo-inspector", "demo-admin", "demo-grid-manager"}),
}


@pytest.fixture
def crew(client: TestClient) -> Crew:
    return Crew(client)


@pytest.fixture
def everyone(client: TestClient) -> dict[str | None, dict[str, str]]:
    return {name: (login(client, name) if name else {}) for name in ACCOUNTS}


def _body(client: TestClient, crew: Crew, action: str, here: tuple[float, float]) -> dict[str, Any]:
    photo = [upload(client, crew.inspector)]
    later = (local_today() + timedelta(days=30)).isoformat()
    bodies: dict[str, dict[str, Any]] = {
        "reject": {"note": "重复"},
        "assign": {"assignee": {"unit": CONTRACTOR_UNIT}},
        "suspend": {"note": "待工程", "review_on": later},
        "hand_back": {"note": "派错"},
        "extend": {"note": "下雨", "deadline": later},
        "resolve": {"photo_ids": photo},
        "close": {"position": point(here), "accuracy_m": 5, "photo_ids": photo},
        "return": {"note": "未清理干净"},
        "reopen": {"note": "反弹"},
    }
    return bodies.get(action, {})  # fmt: skip


def _case_in(crew: Crew, conn: Connection, state: str) -> tuple[int, tuple[float, float]]:
    here = grid_point(conn)
    case_id = crew.new_case(point(here))
    if state == "closed":
        crew.to_state(case_id, "resolved")
        crew.client.post(
            f"/cases/{case_id}/close",
            headers=crew.inspector,
            json=_body(crew.client, crew, "close", here) | {"version": _version(crew.client, case_id)},
        )
    elif state != "reported":
        crew.to_state(case_id, state)
    return case_id, here


def _version(client: TestClient, case_id: int) -> int:
    version: int = client.get(f"/cases/{case_id}").json()["properties"]["version"]
    return version


@pytest.mark.parametrize("action", list(MATRIX))
def test_role_matrix(
    client: TestClient, conn: Connection, crew: Crew, everyone: dict[str | None, dict[str, str]], action: str
) -> None:
    state, allowed = MATRIX[action]
    case_id, here = _case_in(crew, conn, state)
    body = _body(client, crew, action, here)
    version = _version(client, case_id)
    for name, headers in everyone.items():
        if name in allowed:
            continue
        response = client.post(f"/cases/{case_id}/{action}", json=body | {"version": version}, headers=headers)
        expected = {401} if name is None else {403, 404}
        assert response.status_code in expected, (name, response.text)
        assert response.json()["detail_zh"]
    assert _version(client, case_id) == version, "a refused action changes nothing"
    for name in sorted(allowed):
        conn.execute(text("SAVEPOINT try_allowed"))
        response = client.post(f"/cases/{case_id}/{action}", json=body | {"version": version}, headers=everyone[name])
        assert response.status_code == 200, (name, response.text)
        conn.execute(text("ROLLBACK TO SAVEPOINT try_allowed"))


def _other_county_case(conn: Connection, status: str) -> int:
    found = conn.execute(
        text("SELECT min(id) FROM cases WHERE county_code = '640302' AND status = :s AND category = 'garbage_point'"),
        {"s": status},
    ).scalar_one()
    assert found is not None
    return int(found)


def test_scope_is_enforced_on_writes(
    client: TestClient, conn: Connection, everyone: dict[str | None, dict[str, str]]
) -> None:
    litong = _other_county_case(conn, "reported")
    version = _version(client, litong)
    refused = client.post(f"/cases/{litong}/register", json={"version": version}, headers=everyone["demo-inspector"])
    assert refused.status_code == 404 and "范围" in refused.json()["detail_zh"]
    allowed = client.post(f"/cases/{litong}/register", json={"version": version}, headers=everyone["demo-admin"])
    assert allowed.status_code == 200
    elsewhere = _other_county_case(conn, "assigned")
    start = client.post(
        f"/cases/{elsewhere}/start", json={"version": _version(client, elsewhere)}, headers=everyone["demo-contractor"]
    )
    assert start.status_code == 404


def test_scope_on_reads(
    client: TestClient, conn: Connection, crew: Crew, everyone: dict[str | None, dict[str, str]]
) -> None:
    mine = crew.new_case(point(grid_point(conn)), reporter={"name": "赵某", "phone": "13600000004"})
    own = client.get(f"/cases/{mine}", headers=crew.grid_manager).json()["properties"]
    assert own["in_scope"] and own["reporter"]["phone"] == "13600000004"
    other_grid = conn.execute(
        text("""SELECT min(c.id) FROM cases c JOIN case_reporter r ON r.case_id = c.id
                WHERE c.category = 'dilapidated_house' AND c.grid_code <> :g"""),
        {"g": GRID},
    ).scalar_one()
    seen = client.get(f"/cases/{other_grid}", headers=crew.grid_manager).json()["properties"]
    assert not seen["in_scope"] and seen["location_precision"] == "village" and seen["reporter"] is None
    assert seen["grid_code"] is None and seen["description"] is None
    events = client.get(f"/cases/{other_grid}/events", headers=crew.grid_manager).json()["events"]
    assert all(e["actor"] is None and e["position"] is None for e in events)
    contractor = client.get("/cases?mine=true&limit=1000", headers=everyone["demo-contractor"]).json()["features"]
    assert contractor and all(f["properties"]["assignee_unit"] == "二泉公司" for f in contractor)
    contractor_view = client.get(f"/cases/{mine}", headers=everyone["demo-contractor"]).json()["properties"]
    assert "reporter" not in contractor_view and not contractor_view["in_scope"]


def test_who_may_report_where(client: TestClient, conn: Connection, everyone: dict[str | None, dict[str, str]]) -> None:
    here = grid_point(conn)
    for name in ("demo-viewer", "demo-roads", "demo-contractor"):
        assert (
            client.post(
                "/cases", json={"category": "garbage_point", "geometry": point(here)}, headers=everyone[name]
            ).status_code
            == 403
        )
    outside_village = grid_point(conn, "640221202200001")
    refused = client.post(
        "/cases",
        json={"category": "garbage_point", "geometry": point(outside_village)},
        headers=everyone["demo-village"],
    )
    assert refused.status_code == 403 and refused.json()["grid_code"].startswith("640221202200")
    report(client, everyone["demo-village"], point(moved(here, 90, 15)))
    assert (
        client.post(
            "/cases", json={"category": "garbage_point", "geometry": point(here)}, headers=everyone["demo-water"]
        ).status_code
        == 403
    )
    pond = [list(here), list(moved(here, 90, 20)), list(moved(here, 0, 20)), list(here)]
    water = report(
        client,
        everyone["demo-water"],
        {"type": "Polygon", "coordinates": [pond]},
        "black_odorous_water",
        attributes={"supervision_level": "市级"},
    )
    assert water["properties"]["in_scope"] is True


def test_anonymous_reports_are_rate_limited(client: TestClient, conn: Connection, settings: Any) -> None:
    here = grid_point(conn)
    limit = settings.anonymous_reports_per_hour
    for i in range(limit):
        created = report(client, {}, point(moved(here, 45, 40 + i)), reporter={"phone": "13500000005"})
        assert created["properties"]["status"] == "reported" and "reporter" not in created["properties"]
    refused = client.post("/cases", json={"category": "garbage_point", "geometry": point(here)})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert client.post(f"/cases/{created['id']}/register", json={"version": 1}).status_code == 401


def test_bad_tokens(client: TestClient) -> None:
    for header in ("Bearer nonsense", "Bearer " + "a.b.c"):
        response = client.get("/auth/me", headers={"Authorization": header})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert client.post("/auth/token", data={"username": "demo-admin", "password": "wrong"}).status_code == 401
    assert client.post("/auth/token", data={"username": "nobody", "password": "demo"}).status_code == 401
