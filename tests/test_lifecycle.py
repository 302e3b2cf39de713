"""The case lifecycle end to end through the API, as each role (上报 → 立案 → 派遣 → 处置 → 结案)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.lifecycle import (
    CONTRACTOR_UNIT,
    GRID,
    Crew,
    act,
    counts,
    grid_point,
    local_today,
    login,
    moved,
    point,
    report,
    upload,
)


@pytest.fixture
def crew(client: TestClient) -> Crew:
    return Crew(client)


def test_report_to_close_on_site(client: TestClient, conn: Connection, crew: Crew) -> None:
    here = grid_point(conn)
    photo = upload(client, crew.grid_manager)
    feature = report(
        client,
        crew.grid_manager,
        point(here),
        subtype="草堆",
        attributes={"edge": "路边"},
        description="路边草堆",
        photo_ids=[photo],
        reporter={"name": "王某", "phone": "13800000001"},
    )
    props = feature["properties"]
    assert props["status"] == "reported" and props["grid_code"] == GRID and props["village_code"] == GRID[:12]
    assert props["township_code"] == GRID[:9] and props["county_code"] == GRID[:6] and props["version"] == 1
    assert props["reporter"] == {"name": "王某", "phone": "13800000001", "erased": False}
    case_id = feature["id"]
    act(client, crew.inspector, case_id, "register")
    assigned = act(
        client, crew.inspector, case_id, "assign", assignee={"unit": CONTRACTOR_UNIT}, lead_unit="640221202-gov"
    )
    assert assigned["properties"]["deadline"] == (local_today() + timedelta(days=3)).isoformat()
    assert assigned["properties"]["assignee_unit"] == "二泉公司"
    act(client, crew.contractor, case_id, "start")
    act(client, crew.contractor, case_id, "resolve", photo_ids=[upload(client, crew.contractor)])
    closed = act(
        client,
        crew.inspector,
        case_id,
        "close",
        position=point(moved(here, 45, 30)),
        accuracy_m=6.5,
        photo_ids=[upload(client, crew.inspector)],
    )
    assert closed["properties"]["status"] == "closed" and closed["properties"]["closed_on_time"] is True
    history = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"]
    assert [e["action"] for e in history] == ["report", "register", "assign", "start", "resolve", "close"]
    assert [e["actor"] for e in history][-1] == "demo-inspector"
    close_event = history[-1]
    assert close_event["position"]["type"] == "Point" and close_event["accuracy_m"] == 6.5
    assert close_event["position_datum"] == "EPSG:4326" and close_event["data"]["distance_m"] == pytest.approx(
        30, abs=0.5
    )


def test_failed_check_goes_back_to_the_assignee(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    crew.to_state(case_id, "resolved")
    act(client, crew.inspector, case_id, "return", expect=422)
    returned = act(client, crew.inspector, case_id, "return", note="现场仍有垃圾")
    assert returned["properties"]["status"] == "assigned"
    act(client, crew.contractor, case_id, "start")


def test_register_reject_duplicate(client: TestClient, conn: Connection, crew: Crew) -> None:
    here = grid_point(conn)
    first = crew.new_case(point(here))
    second = report(client, crew.grid_manager, point(moved(here, 90, 10)))
    assert first in second["properties"]["possible_duplicates"]
    rejected = act(client, crew.inspector, second["id"], "reject", note="重复上报", duplicate_of=first)
    assert rejected["properties"]["status"] == "rejected" and rejected["properties"]["duplicate_of"] == first
    third = crew.new_case(point(moved(here, 180, 500)), category="agri_waste")
    act(client, crew.inspector, third, "reject", expect=422, note="x", duplicate_of=first)


def test_hand_back_extend_suspend_reopen(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    crew.to_state(case_id, "assigned")
    act(client, crew.contractor, case_id, "hand_back", expect=422)
    back = act(client, crew.contractor, case_id, "hand_back", note="不属于保洁范围")
    assert back["properties"]["status"] == "registered" and back["properties"]["assignee_unit"] is None
    act(client, crew.inspector, case_id, "assign", assignee={"unit": CONTRACTOR_UNIT})
    later = (local_today() + timedelta(days=20)).isoformat()
    asked = act(client, crew.contractor, case_id, "extend", deadline=later, note="需要大型机械")
    assert asked["properties"]["extension_requested"] == later and asked["properties"]["status"] == "assigned"
    approved = act(client, crew.inspector, case_id, "extend", decision="approve")
    assert approved["properties"]["deadline"] == later and approved["properties"]["extension_requested"] is None
    act(client, crew.inspector, case_id, "extend", expect=409, decision="refuse")
    review = (local_today() + timedelta(days=60)).isoformat()
    act(client, crew.inspector, case_id, "suspend", expect=422, note="待工程")
    suspended = act(client, crew.inspector, case_id, "suspend", note="需结合工程整治", review_on=review)
    assert suspended["properties"]["review_on"] == review
    due = client.get("/cases?status=suspended&review_due=false&mine=true", headers=crew.inspector).json()
    assert case_id in [f["id"] for f in due["features"]]
    act(client, crew.inspector, case_id, "assign", assignee={"unit": CONTRACTOR_UNIT})
    act(client, crew.contractor, case_id, "start")
    act(client, crew.contractor, case_id, "resolve", photo_ids=[upload(client, crew.contractor)])
    act(
        client,
        crew.inspector,
        case_id,
        "close",
        position=point(grid_point(conn)),
        accuracy_m=5,
        photo_ids=[upload(client, crew.inspector)],
    )
    reopened = act(client, crew.grid_manager, case_id, "reopen", note="垃圾又堆起来了")
    assert reopened["properties"]["status"] == "registered" and reopened["properties"]["round"] == 2
    assert reopened["properties"]["closed_at"] is None


def test_refused_extension_keeps_the_deadline(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    crew.to_state(case_id, "in_progress")
    before = client.get(f"/cases/{case_id}").json()["properties"]["deadline"]
    act(client, crew.contractor, case_id, "extend", expect=422, deadline=before, note="x")
    act(client, crew.contractor, case_id, "extend", deadline=(local_today() + timedelta(days=9)).isoformat(), note="雨")
    refused = act(client, crew.inspector, case_id, "extend", decision="refuse")
    assert refused["properties"]["deadline"] == before and refused["properties"]["extension_requested"] is None


def test_wrong_state_and_stale_version_change_nothing(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    before = counts(conn)
    wrong = act(
        client,
        crew.inspector,
        case_id,
        "close",
        expect=409,
        position=point(grid_point(conn)),
        accuracy_m=5,
        photo_ids=[],
    )
    assert "reported" in wrong["detail"] and wrong["detail_zh"]
    stale = act(client, crew.inspector, case_id, "register", expect=409, version=7)
    assert stale["current_version"] == 1
    missing = client.post(f"/cases/{case_id}/register", json={}, headers=crew.inspector)
    assert missing.status_code == 428
    assert counts(conn) == before
    by_header = client.post(f"/cases/{case_id}/register", json={}, headers=crew.inspector | {"If-Match": '"1"'})
    assert by_header.status_code == 200 and by_header.json()["properties"]["version"] == 2


def test_unknown_action_and_unit(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    act(client, crew.inspector, case_id, "approve", expect=404)
    act(client, crew.inspector, case_id, "register")
    before = counts(conn)
    refused = act(client, crew.inspector, case_id, "assign", expect=422, assignee={"unit": "no-such-unit"})
    assert "no-such-unit" in refused["detail"]
    act(client, crew.inspector, case_id, "assign", expect=422)
    past = (local_today() - timedelta(days=1)).isoformat()
    act(client, crew.inspector, case_id, "assign", expect=422, assignee={"unit": CONTRACTOR_UNIT}, deadline=past)
    assert counts(conn) == before


def test_events_are_public_without_details(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)), reporter={"name": "李某", "phone": "13900000002"})
    act(client, crew.inspector, case_id, "register", note="内部备注")
    public = client.get(f"/cases/{case_id}/events").json()
    assert [e["action"] for e in public["events"]] == ["report", "register"]
    assert all(e["actor"] is None and e["note"] is None for e in public["events"])
    raw = client.get(f"/cases/{case_id}").text + client.get(f"/cases/{case_id}/events").text
    assert "李某" not in raw and "13900000002" not in raw and "内部备注" not in raw


def test_reporter_erasure(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)), reporter={"name": "张某", "phone": "13700000003"})
    version = client.get(f"/cases/{case_id}").json()["properties"]["version"]
    erased = client.post(f"/cases/{case_id}/erase-reporter", headers=crew.inspector).json()["properties"]
    assert erased["reporter"] == {"name": None, "phone": None, "erased": True}
    assert erased["version"] == version and erased["status"] == "reported"
    events = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"]
    assert events[-1]["action"] == "erase_reporter" and events[-1]["actor"] == "demo-inspector"
    assert client.post(f"/cases/{case_id}/erase-reporter", headers=crew.inspector).status_code == 409
    assert client.post(f"/cases/{case_id}/erase-reporter", headers=crew.contractor).status_code == 403
    stored = conn.execute(text("SELECT name, phone FROM case_reporter WHERE case_id = :i"), {"i": case_id}).one()
    assert tuple(stored) == (None, None)


def test_password_change_revokes_old_tokens(client: TestClient) -> None:
    old = login(client, "demo-viewer")
    changed = client.post("/auth/password", json={"old_password": "demo", "new_password": "a-longer-one"}, headers=old)
    assert changed.status_code == 204
    assert client.get("/auth/me", headers=old).status_code == 401
    assert client.post("/auth/token", data={"username": "demo-viewer", "password": "demo"}).status_code == 401
    fresh = login(client, "demo-viewer", "a-longer-one")
    assert client.get("/auth/me", headers=fresh).json()["role"] == "viewer"
    admin = login(client, "demo-admin")
    reset = client.post("/users/demo-viewer/password", json={"new_password": "reset-by-admin"}, headers=admin)
    assert reset.status_code == 204 and client.get("/auth/me", headers=fresh).status_code == 401


def test_grid_handover_keeps_history(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    made = client.post(
        "/users",
        headers=crew.admin,
        json={
            "username": "wang-xiang",
            "display_name": "王巷长",
            "role": "grid_manager",
            "password": "password-1",
            "areas": ["640221202204002"],
        },
    )
    assert made.status_code == 201, made.text
    handed = client.post(f"/grids/{GRID}/manager", json={"username": "wang-xiang"}, headers=crew.admin).json()
    people = [(m["username"], m["to_at"] is None) for m in handed["managers"]]
    assert people == [("demo-grid-manager", False), ("wang-xiang", True)]
    new_manager = login(client, "wang-xiang", "password-1")
    mine = client.get("/cases?mine=true&status=reported&limit=1000", headers=new_manager).json()["features"]
    assert case_id in [f["id"] for f in mine]
    old = client.get("/cases?mine=true&status=reported&limit=1000", headers=crew.grid_manager).json()["features"]
    assert case_id in [f["id"] for f in old], "a case stays visible to the person who reported it"
    assert client.get(f"/cases/{case_id}", headers=crew.grid_manager).json()["properties"]["in_scope"] is True
    assert (
        client.post(f"/grids/{GRID}/manager", json={"username": "demo-inspector"}, headers=crew.admin).status_code
        == 422
    )
