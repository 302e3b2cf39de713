"""Project progress and facility state (项目进度、设施状态): measured built km, off-line refusals,
the status machine, who may write, and append-only history — on the real sample."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tests.lifecycle import login


def project_id(conn: Connection, code: str) -> int:
    return int(conn.execute(text("SELECT id FROM project WHERE code = :c"), {"c": code}).scalar_one())


def facility_id(conn: Connection, code: str) -> int:
    return int(conn.execute(text("SELECT id FROM facility WHERE code = :c"), {"c": code}).scalar_one())


def piece(conn: Connection, pid: int, a: float, b: float, off_m: float = 0.0) -> dict[str, Any]:
    """The stretch a–b (fractions) of a project's line as GeoJSON, optionally ``off_m`` beside it."""
    found = conn.execute(
        text("""
        WITH s AS (SELECT ST_Transform(ST_LineSubstring(ST_LineMerge(geom), :a, :b), 4544) AS g
                   FROM project WHERE id = :id)
        SELECT ST_AsGeoJSON(ST_Transform(CASE WHEN :off = 0 THEN g ELSE ST_OffsetCurve(g, :off) END, 4326), 9)
        FROM s
        """),
        {"id": pid, "a": a, "b": b, "off": off_m},
    ).scalar_one()
    geometry: dict[str, Any] = json.loads(found)
    return geometry


def km(conn: Connection, geometry: dict[str, Any]) -> float:
    sql = text("SELECT ST_Length(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)::geography) / 1000")
    return float(conn.execute(sql, {"g": json.dumps(geometry)}).scalar_one())


def progress(client: TestClient, headers: dict[str, str], pid: int, expect: int = 201, **body: Any) -> dict[str, Any]:
    response = client.post(f"/projects/{pid}/progress", json=body, headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def entries(conn: Connection, pid: int) -> int:
    sql = text("SELECT count(*) FROM project_progress WHERE project_id = :p")
    return int(conn.execute(sql, {"p": pid}).scalar_one())


def test_built_km_is_measured_and_never_double_counted(client: TestClient, conn: Connection) -> None:
    roads = login(client, "demo-roads")
    pid = project_id(conn, "640302-2022-R03")  # 在建, 1.8 km planned
    first = piece(conn, pid, 0.1, 0.4)
    project = progress(client, roads, pid, built_geometry=first, guardrail_km=0.4, spent_wan=120.5, note="路基完成")
    props = project["properties"]
    assert float(props["built_km"]) == pytest.approx(km(conn, first), abs=0.001)
    planned = float(props["planned_km"])
    assert float(props["progress_pct"]) == pytest.approx(100 * km(conn, first) / planned, abs=0.01)
    assert float(props["guardrail_km"]) == 0.4
    row = conn.execute(
        text("SELECT built_km, status_from, status_to, actor, spent_wan FROM project_progress "
             "WHERE project_id = :p ORDER BY id DESC LIMIT 1"), {"p": pid},
    ).one()  # fmt: skip
    assert float(row.built_km) == pytest.approx(km(conn, first), abs=0.001)
    assert (row.status_from, row.status_to, row.actor, float(row.spent_wan)) == (
        "under_construction", "under_construction", "demo-roads", 120.5)  # fmt: skip
    overlapping = piece(conn, pid, 0.3, 0.6)
    props = progress(client, roads, pid, built_geometry=overlapping)["properties"]
    assert float(props["built_km"]) == pytest.approx(km(conn, piece(conn, pid, 0.1, 0.6)), abs=0.002)
    done = progress(client, roads, pid, status="completed")["properties"]
    assert done["status"] == "completed" and float(done["progress_pct"]) == 100


def test_a_built_part_off_the_line_is_refused_with_the_distance(client: TestClient, conn: Connection) -> None:
    roads = login(client, "demo-roads")
    pid = project_id(conn, "640302-2022-R03")
    before = entries(conn, pid)
    response = client.post(
        f"/projects/{pid}/progress", json={"built_geometry": piece(conn, pid, 0.2, 0.5, off_m=200)}, headers=roads
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "built_geometry" and problem["limit_m"] == 30
    assert 190 < problem["distance_m"] < 210 and "偏离项目线位" in problem["detail_zh"]
    near = progress(client, roads, pid, built_geometry=piece(conn, pid, 0.2, 0.5, off_m=10))
    assert near["properties"]["built_km"] is not None
    assert entries(conn, pid) == before + 1
    polygon = {"type": "Polygon", "coordinates": [[[106.2, 38.0], [106.21, 38.0], [106.21, 38.01], [106.2, 38.0]]]}
    wrong = client.post(f"/projects/{pid}/progress", json={"built_geometry": polygon}, headers=roads)
    assert wrong.status_code == 422 and wrong.json()["reason"] == "type_not_allowed"


@pytest.mark.parametrize(("code", "status", "expect"), [
    ("640302-2022-R05", "under_construction", 201),   # 招标中 → 在建
    ("640302-2022-R06", "tendering", 201),            # 计划 → 招标
    ("640302-2022-R06", "under_construction", 201),   # 计划 → 在建 (tendering may be skipped)
    ("640302-2022-R06", "accepted", 409),             # acceptance follows completion
    ("640302-2022-R02", "under_construction", 409),   # 完工 never goes back
    ("640302-2022-R01", "completed", 409),            # 已验收 is final
    ("640302-2022-R02", "finished", 422),             # not a status
])  # fmt: skip
def test_the_status_machine(client: TestClient, conn: Connection, code: str, status: str, expect: int) -> None:
    response = client.post(
        f"/projects/{project_id(conn, code)}/progress", json={"status": status}, headers=login(client, "demo-roads")
    )
    assert response.status_code == expect, response.text
    if expect == 409:
        assert "不能改为" in response.json()["detail_zh"] and "allowed" in response.json()


def test_no_built_part_before_construction_and_stale_versions(client: TestClient, conn: Connection) -> None:
    roads = login(client, "demo-roads")
    planned = project_id(conn, "640302-2022-R06")
    line = piece(conn, planned, 0, 0.5)
    assert progress(client, roads, planned, 409, built_geometry=line)["detail_zh"].startswith("项目尚未开工")
    ok = progress(client, roads, planned, status="under_construction", built_geometry=line)
    assert ok["properties"]["status"] == "under_construction"
    stale = progress(client, roads, planned, 409, version=1, progress_pct=50)
    assert stale["current_version"] == ok["properties"]["version"]


def test_who_may_record_progress(client: TestClient, conn: Connection) -> None:
    road = project_id(conn, "640302-2022-R03")
    water = project_id(conn, "640302-2022-W01")
    assert client.post(f"/projects/{road}/progress", json={"progress_pct": 70}).status_code == 401
    assert progress(client, login(client, "demo-water"), road, 403, progress_pct=70)["required_roles"]
    assert progress(client, login(client, "demo-grid-manager"), road, 404, progress_pct=70)
    assert progress(client, login(client, "demo-water"), water, progress_pct=70)["properties"]["progress_pct"] == 70
    assert progress(client, login(client, "demo-admin"), road, progress_pct=61)["properties"]["progress_pct"] == 61
    assert client.post("/projects/99999/progress", json={}, headers=login(client, "demo-roads")).status_code == 404


def test_facility_states_with_their_events(client: TestClient, conn: Connection) -> None:
    station = facility_id(conn, "640221-F001")  # 金桥村 collection point, working
    village = login(client, "demo-village")
    position = {"type": "Point", "coordinates": [106.6, 38.9]}
    body = {"state": "broken", "note": "桶损坏", "position": position}
    changed = client.post(f"/facilities/{station}/status", json=body, headers=village)
    assert changed.status_code == 200, changed.text
    assert changed.json()["properties"]["state"] == "broken" and changed.json()["properties"]["state_label"] == "故障"
    event = conn.execute(
        text("SELECT from_state, to_state, actor, ST_AsText(position) FROM facility_event WHERE facility_id = :f"),
        {"f": station},
    ).one()
    assert tuple(event) == ("working", "broken", "demo-village", "POINT(106.6 38.9)")
    again = client.post(f"/facilities/{station}/status", json={"state": "broken"}, headers=village)
    assert again.status_code == 409
    illegal = client.post(f"/facilities/{station}/status", json={"state": "planned"}, headers=village)
    assert illegal.status_code == 409 and illegal.json()["allowed"] == ["working"]
    monitor = facility_id(conn, "640302-M001")
    assert client.post(f"/facilities/{monitor}/status", json=body, headers=village).status_code == 404
    roads = login(client, "demo-roads")
    assert client.post(f"/facilities/{monitor}/status", json=body, headers=roads).status_code == 403
    water = client.post(f"/facilities/{monitor}/status", json=body, headers=login(client, "demo-water"))
    assert water.status_code == 200 and water.json()["properties"]["state"] == "broken"


def test_history_is_append_only(client: TestClient, conn: Connection) -> None:
    pid = project_id(conn, "640302-2022-R03")
    progress(client, login(client, "demo-roads"), pid, progress_pct=65)
    client.post(f"/facilities/{facility_id(conn, '640221-F001')}/status", json={"state": "broken"},
                headers=login(client, "demo-village"))  # fmt: skip
    statements = [
        "UPDATE project_progress SET note = 'x'",
        "DELETE FROM project_progress",
        "UPDATE facility_event SET note = 'x'",
        "DELETE FROM facility_event",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError), conn.begin_nested():
            conn.execute(text(statement))
