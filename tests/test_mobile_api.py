"""What the field pages ask the server (移动端接口): categories, duplicates nearby, the human check,
reports from the pages, the actions a user may take, and the pages themselves as served."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.routes.mobile import precache_urls, static_files
from gis import human_check
from gis.errors import InvalidField
from tests.lifecycle import GEOD, GRID, Crew, act, counts, grid_point, moved, point, upload

SECRET = "a-test-secret-that-is-long-enough-0123456789"


@pytest.fixture
def crew(client: TestClient) -> Crew:
    return Crew(client)


def _nearby(
    client: TestClient, category: str, lonlat: tuple[float, float], headers: dict[str, str] | None = None
) -> Any:
    params = {"lon": lonlat[0], "lat": lonlat[1]}
    response = client.get(f"/categories/{category}/nearby", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def test_categories_list_the_rules_from_the_table(client: TestClient, conn: Connection) -> None:
    body = client.get("/categories", params={"kind": "problem"}).json()
    rows = conn.execute(
        text("SELECT code, closeout_radius_m, accuracy_limit_m, subtypes FROM category WHERE kind = 'problem' "
             "ORDER BY sort_order, code")
    ).all()  # fmt: skip
    assert [c["code"] for c in body["categories"]] == [r.code for r in rows]
    for listed, row in zip(body["categories"], rows, strict=True):
        assert listed["closeout_radius_m"] == pytest.approx(row.closeout_radius_m)
        assert listed["accuracy_limit_m"] == pytest.approx(row.accuracy_limit_m)
        assert listed["subtypes"] == list(row.subtypes) and listed["kind"] == "problem"
    garbage = client.get("/categories/garbage_point").json()
    assert "六边" in garbage["attributes"]["edge"]["label_zh"] and "路边" in garbage["attributes"]["edge"]["values"]
    every = client.get("/categories").json()["categories"]
    assert {c["kind"] for c in every} >= {"problem", "project", "facility"}
    wrong = client.get("/categories", params={"kind": "house"})
    assert wrong.status_code == 400 and "kind" in wrong.json()["detail_zh"]
    missing = client.get("/categories/no_such")
    assert missing.status_code == 404 and "garbage_point" in missing.json()["detail"]
    assert client.get("/categories", params={"knd": "problem"}).status_code == 400


def test_nearby_lists_open_cases_of_the_category_within_its_radius(
    client: TestClient, conn: Connection, crew: Crew
) -> None:
    here = grid_point(conn)
    near_id = crew.new_case(point(moved(here, 90, 12)))
    far_id = crew.new_case(point(moved(here, 90, 80)))
    other_category = crew.new_case(point(moved(here, 0, 5)), category="agri_waste")
    closed_id = crew.new_case(point(moved(here, 180, 8)))
    crew.to_state(closed_id, "resolved")
    act(client, crew.inspector, closed_id, "close", position=point(here), accuracy_m=5,
        photo_ids=[upload(client, crew.inspector)])  # fmt: skip
    found = _nearby(client, "garbage_point", here)
    ids = [f["id"] for f in found["features"]]
    assert near_id in ids and far_id not in ids and other_category not in ids and closed_id not in ids
    assert found["radius_m"] == pytest.approx(30) and found["category"] == "garbage_point"
    distances = [f["properties"]["distance_m"] for f in found["features"]]
    assert distances == sorted(distances) and all(d <= 30 for d in distances)
    mine = next(f for f in found["features"] if f["id"] == near_id)
    expected = GEOD.inv(here[0], here[1], *moved(here, 90, 12))[2]
    assert mine["properties"]["distance_m"] == pytest.approx(expected, abs=0.2)
    assert mine["properties"]["status_label"] == "已上报" and "reporter" not in mine["properties"]
    assert client.get("/categories/garbage_point/nearby", params={"lon": 200, "lat": 38}).status_code == 400
    assert client.get("/categories/no_such/nearby", params={"lon": here[0], "lat": here[1]}).status_code == 404


def test_nearby_never_locates_a_private_case_for_the_public(client: TestClient, conn: Connection, crew: Crew) -> None:
    here = grid_point(conn)
    house = crew.new_case(point(moved(here, 45, 6)), category="dilapidated_house")
    public = _nearby(client, "dilapidated_house", here)
    assert house not in [f["id"] for f in public["features"]]
    staff = _nearby(client, "dilapidated_house", here, crew.grid_manager)
    assert house in [f["id"] for f in staff["features"]]


def test_human_check_signs_the_answer_and_expires() -> None:
    c = human_check.new_challenge(SECRET, now=1_000_000)
    a, b = (int(n) for n in re.findall(r"\d+", c.question_en))
    assert c.question_zh.endswith("等于几？") and c.expires_at == 1_000_000 + human_check.LIFETIME_S
    human_check.verify(SECRET, c.token, str(a + b), now=1_000_100)
    human_check.verify(
        SECRET, c.token, " " + str(a + b).translate(str.maketrans("0123456789", "０１２３４５６７８９")), now=1_000_100
    )
    refusals = [
        (c.token, str(a + b + 1), 1_000_100, "wrong"),
        (c.token, str(a + b), c.expires_at + 1, "expired"),
        ("not-a-token", "3", 1_000_100, "malformed"),
    ]
    for token, answer, now, reason in refusals:
        with pytest.raises(InvalidField) as refused:
            human_check.verify(SECRET, token, answer, now=now)
        assert refused.value.extra["reason"] == reason
    with pytest.raises(InvalidField):
        human_check.verify("another-secret-of-enough-length-0123456789", c.token, str(a + b), now=1_000_100)


def _solved(client: TestClient) -> dict[str, str]:
    challenge = client.get("/m/api/challenge").json()
    a, b = (int(n) for n in re.findall(r"\d+", challenge["question"]))
    return {"token": challenge["token"], "answer": str(a + b)}


def test_anonymous_field_report_needs_the_human_check(client: TestClient, conn: Connection, crew: Crew) -> None:
    body: dict[str, Any] = {"category": "garbage_point", "subtype": "草堆", "geometry": point(grid_point(conn)),
                            "description": "村民上报"}  # fmt: skip
    before = counts(conn)
    missing = client.post("/m/api/reports", json=body)
    assert missing.status_code == 422 and missing.json()["field"] == "human_check"
    wrong = client.post(
        "/m/api/reports", json=body | {"human_check": {"token": _solved(client)["token"], "answer": "99"}}
    )
    assert wrong.status_code == 422 and wrong.json()["reason"] == "wrong"
    assert counts(conn) == before
    check = _solved(client)
    headers = {"Idempotency-Key": "villager-phone-1"}
    created = client.post("/m/api/reports", json=body | {"human_check": check}, headers=headers)
    assert created.status_code == 201, created.text
    props = created.json()["properties"]
    assert props["grid_code"] == GRID and props["status"] == "reported" and "reporter" not in props
    again = client.post("/m/api/reports", json=body | {"human_check": check}, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    staff = client.post("/m/api/reports", json=body, headers=crew.grid_manager)
    assert staff.status_code == 201 and staff.json()["properties"]["reporter"] is None
    assert counts(conn)[0] == before[0] + 2


def _actions(client: TestClient, case_id: int, headers: dict[str, str] | None = None) -> list[str]:
    response = client.get(f"/m/api/cases/{case_id}/actions", headers=headers or {})
    assert response.status_code == 200, response.text
    actions: list[str] = response.json()["actions"]
    return actions


def test_field_actions_follow_the_state_machine_and_the_roles(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)))
    assert _actions(client, case_id, crew.grid_manager) == [] and _actions(client, case_id) == []
    crew.to_state(case_id, "assigned")
    assert _actions(client, case_id, crew.contractor) == ["start"]
    assert _actions(client, case_id, crew.inspector) == []
    act(client, crew.contractor, case_id, "start")
    assert _actions(client, case_id, crew.contractor) == ["resolve"]
    act(client, crew.contractor, case_id, "resolve", photo_ids=[upload(client, crew.contractor)])
    resolved = client.get(f"/m/api/cases/{case_id}/actions", headers=crew.inspector).json()
    assert resolved["actions"] == ["close", "return"] and resolved["status"] == "resolved"
    assert resolved["closeout_radius_m"] == pytest.approx(100) and resolved["accuracy_limit_m"] > 0
    assert resolved["version"] == client.get(f"/cases/{case_id}").json()["properties"]["version"]
    assert _actions(client, case_id, crew.contractor) == [] and _actions(client, case_id, crew.grid_manager) == []
    assert client.get("/m/api/cases/999999999/actions").status_code == 404


def test_features_say_whether_the_patrol_route_exists(client: TestClient, crew: Crew) -> None:
    route = client.get(f"/grids/{GRID}/patrol-route", headers=crew.grid_manager)
    assert client.get("/m/api/features").json() == {"patrol_route": route.status_code == 200}, route.text[:300]


@pytest.mark.parametrize("path", ["/m/", "/m/report", "/m/worklist", "/m/cases/1", "/m/case"])
def test_pages_are_chinese_first_local_and_carry_no_data(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html and "/m/static/core.js" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "every asset is served by VillageMap"
    assert re.search(r"[\u4e00-\u9fff]", html)


def test_report_page_offers_point_categories_as_buttons(client: TestClient, conn: Connection) -> None:
    html = client.get("/m/report").text
    rows = conn.execute(text("SELECT code, label_zh, geometry_types FROM category WHERE kind = 'problem'")).all()
    for row in rows:
        button = f'data-code="{row.code}"'
        assert (button in html) == ("Point" in row.geometry_types), row.code
        assert row.label_zh in html
    assert 'capture="environment"' in html and "/static/vendor/leaflet/leaflet.js" in html


def test_case_page_never_holds_the_reporter(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id = crew.new_case(point(grid_point(conn)), reporter={"name": "赵某", "phone": "13912345678"},
                            description="后院危房")  # fmt: skip
    html = client.get(f"/m/cases/{case_id}", headers=crew.grid_manager).text
    assert "13912345678" not in html and "赵某" not in html and "后院危房" not in html


def test_service_worker_static_files_and_patrol_page(client: TestClient) -> None:
    sw = client.get("/m/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in sw.text and "__PRECACHE__" not in sw.text
    for url in precache_urls():
        assert f'"{url}"' in sw.text
        assert client.get(url).status_code == 200, url
    assert "outbox.js" in static_files() and "/m/report" in precache_urls()
    assert client.get("/m/static/../routes/mobile.py").status_code == 404
    assert client.get("/m/static/nothing.js").status_code == 404
    manifest = client.get("/m/manifest.webmanifest").json()
    assert manifest["scope"] == "/m/" and manifest["lang"] == "zh-CN"
    patrol = client.get(f"/m/patrol/{GRID}")
    assert patrol.status_code == 200 and 'class="vm-m-back"' in patrol.text and "/static/vendor/leaflet" in patrol.text
    assert client.get("/m/patrol/123").status_code in (400, 422)
    assert client.get("/m", follow_redirects=False).headers["location"] == "/m/"
