"""Patrol records (巡查记录): GeoJSON and GPX tracks, validity by the rules, cases passed, reads,
the grids not patrolled this week, who may do what, and that records are kept forever."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tests.lifecycle import GRID, grid_point, login, moved

CST = timezone(timedelta(hours=8))
START = datetime(2022, 1, 5, 9, 0, tzinfo=CST)


def lap(
    conn: Connection, *, metres: float = 2400.0, minutes: float = 40.0, points: int = 25
) -> tuple[dict[str, Any], list[str]]:
    """A back-and-forth walk inside the grid: ``metres`` long in ``minutes``, with per-point times."""
    centre = grid_point(conn)
    half = metres / 4
    a, b = moved(centre, 270, half / 2), moved(centre, 90, half / 2)
    legs = [a, b, a, b, a]
    coords: list[list[float]] = []
    for k in range(points):
        t = k / (points - 1) * 4
        i = min(int(t), 3)
        f = t - i
        (x0, y0), (x1, y1) = legs[i], legs[i + 1]
        coords.append([x0 + f * (x1 - x0), y0 + f * (y1 - y0)])
    times = [(START + timedelta(minutes=minutes * k / (points - 1))).isoformat() for k in range(points)]
    return {"type": "LineString", "coordinates": coords}, times


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = client.post("/patrols", json=body, headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_valid_patrol_and_the_cases_it_passed(client: TestClient, conn: Connection) -> None:
    manager = login(client, "demo-grid-manager")
    track, times = lap(conn)
    near = (
        conn.execute(
            text("""
        SELECT c.id FROM cases c JOIN category cat ON cat.code = c.category
        WHERE c.grid_code = :g AND c.status <> ALL (ARRAY['closed', 'rejected'])
          AND ST_DWithin(c.geom::geography, ST_SetSRID(ST_GeomFromGeoJSON(:t), 4326)::geography, cat.closeout_radius_m)
        ORDER BY c.id
        """),
            {"g": GRID, "t": json.dumps(track)},
        )
        .scalars()
        .all()
    )
    feature = post(client, manager, {"grid_code": GRID, "track": track, "times": times})
    props = feature["properties"]
    assert props["valid"] is True and props["invalid_reasons"] == [] and props["user"]
    assert props["length_m"] == pytest.approx(2400, rel=0.02) and props["duration_s"] == 2400
    assert [c["id"] for c in props["passed_cases"]] == list(near)
    assert props["rule"] == {"min_minutes": 30, "min_km": 2.0, "per_days": 7}
    listed = client.get(f"/patrols?grid={GRID}&from=2022-01-05&to=2022-01-05", headers=manager).json()
    assert [f["id"] for f in listed["features"]] == [feature["id"]]
    assert client.get(f"/patrols?grid={GRID}&from=2022-01-06", headers=manager).json()["features"] == []


def test_too_short_too_fast_and_outside_are_invalid_with_reasons(client: TestClient, conn: Connection) -> None:
    manager = login(client, "demo-grid-manager")
    track, times = lap(conn, metres=900, minutes=12)
    props = post(client, manager, {"grid_code": GRID, "track": track, "times": times})["properties"]
    assert props["valid"] is False
    assert props["invalid_reasons"] == ["too_short_time", "too_short_distance"]
    assert any("时长不足" in r for r in props["reason_labels"])
    fast, fast_times = lap(conn, metres=12000, minutes=20)
    props = post(client, manager, {"grid_code": GRID, "track": fast, "times": fast_times})["properties"]
    assert "too_fast" in props["invalid_reasons"] and "too_short_time" in props["invalid_reasons"]
    far = {"type": "LineString", "coordinates": [[106.30, 38.70], [106.33, 38.70]]}
    props = post(client, manager, {"grid_code": GRID, "track": far, "times": [times[0], times[-1]]})["properties"]
    assert "outside_grid" in props["invalid_reasons"]


def gpx(coords: list[list[float]], times: list[str]) -> str:
    points = "".join(
        f'<trkpt lat="{lat}" lon="{lon}"><ele>1100</ele><time>{t}</time></trkpt>'
        for (lon, lat), t in zip(coords, times, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>巡查</name><trkseg>'
        f"{points}</trkseg></trk></gpx>"
    )


def test_gpx_and_feature_with_coord_times(client: TestClient, conn: Connection) -> None:
    manager = login(client, "demo-grid-manager")
    track, times = lap(conn)
    utc = [datetime.fromisoformat(t).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in times]
    via_gpx = post(client, manager, {"grid_code": GRID, "gpx": gpx(track["coordinates"], utc)})["properties"]
    assert via_gpx["source"] == "gpx" and via_gpx["valid"] is True
    assert via_gpx["started_at"].startswith("2022-01-05T09:00:00")
    feature = {"type": "Feature", "geometry": track, "properties": {"coordTimes": times}}
    via_feature = post(client, manager, {"grid_code": GRID, "track": feature})["properties"]
    assert via_feature["source"] == "geojson" and via_feature["length_m"] == pytest.approx(via_gpx["length_m"])


@pytest.mark.parametrize(("body", "field", "hint"), [
    ({"times": ["2022-01-05T09:00:00+08:00"]}, "times", "须有同样多的时间"),
    ({"times": "later"}, "times", "times"),
    ({"times": ["2022-01-05T09:00:00"] * 25}, "times", "带时区"),
    ({"reverse": True}, "times", "先后顺序"),
    ({"gpx": "<gpx><trk><trkseg><trkpt lat='38.9' lon='106.6'/></trkseg></trk></gpx>"}, "gpx", "至少需要 2 个"),
    ({"gpx": "<!DOCTYPE x [<!ENTITY a 'b'>]><gpx/>"}, "gpx", "DOCTYPE"),
    ({"gpx": "<gpx><trk"}, "gpx", "XML"),
    ({"gpx": "<kml/>"}, "gpx", "<gpx>"),
])  # fmt: skip
def test_bad_tracks_are_refused_with_the_reason(
    client: TestClient, conn: Connection, body: dict[str, Any], field: str, hint: str
) -> None:
    manager = login(client, "demo-grid-manager")
    track, times = lap(conn)
    request: dict[str, Any] = {"grid_code": GRID}
    if "gpx" in body:
        request["gpx"] = body["gpx"]
    else:
        request |= {"track": track, "times": body.get("times", times[::-1] if body.get("reverse") else times)}
    before = conn.execute(text("SELECT count(*) FROM patrol")).scalar_one()
    response = client.post("/patrols", json=request, headers=manager)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in (problem.get("field"), problem.get("parameter")) and problem["detail"]
    assert hint in problem["detail_zh"]
    assert conn.execute(text("SELECT count(*) FROM patrol")).scalar_one() == before


def test_who_may_record_and_read(client: TestClient, conn: Connection) -> None:
    track, times = lap(conn)
    body = {"grid_code": GRID, "track": track, "times": times}
    assert client.post("/patrols", json=body).status_code == 401
    assert client.post("/patrols", json=body, headers=login(client, "demo-inspector")).status_code == 403
    other = {**body, "grid_code": "640221202204002"}
    assert client.post("/patrols", json=other, headers=login(client, "demo-grid-manager")).status_code == 404
    both = {**body, "gpx": "<gpx/>"}
    assert client.post("/patrols", json=both, headers=login(client, "demo-grid-manager")).status_code == 422
    post(client, login(client, "demo-grid-manager"), body)
    assert client.get(f"/patrols?grid={GRID}").status_code == 401
    assert client.get(f"/patrols?grid={GRID}", headers=login(client, "demo-contractor")).status_code == 403
    seen = client.get(f"/patrols?grid={GRID}", headers=login(client, "demo-viewer")).json()
    assert len(seen["features"]) == 1
    assert client.get("/patrols?grid=640221202204", headers=login(client, "demo-village")).json()["features"]
    assert client.get("/patrols?grid=640302", headers=login(client, "demo-village")).json()["features"] == []


def test_patrols_are_kept_forever(client: TestClient, conn: Connection) -> None:
    track, times = lap(conn)
    post(client, login(client, "demo-grid-manager"), {"grid_code": GRID, "track": track, "times": times})
    with pytest.raises(DBAPIError), conn.begin_nested():
        conn.execute(text("UPDATE patrol SET valid = NOT valid"))
    with pytest.raises(DBAPIError), conn.begin_nested():
        conn.execute(text("DELETE FROM patrol"))


def test_grids_not_patrolled_this_week(client: TestClient, conn: Connection) -> None:
    viewer = login(client, "demo-viewer")
    week = "2022-W01"
    before = client.get(f"/patrols/unpatrolled?area=640221202204&week={week}", headers=viewer).json()
    codes = [g["grid_code"] for g in before["grids"]]
    assert GRID in codes and before["total_grids"] == len(codes) and before["monday"] == "2022-01-03"
    mine = next(g for g in before["grids"] if g["grid_code"] == GRID)
    assert mine["managers"]
    track, times = lap(conn)
    post(client, login(client, "demo-grid-manager"), {"grid_code": GRID, "track": track, "times": times})
    after = client.get(f"/patrols/unpatrolled?area=640221202204&week={week}", headers=viewer).json()
    assert GRID not in [g["grid_code"] for g in after["grids"]]
    assert len(after["grids"]) == len(codes) - 1
    other_week = client.get("/patrols/unpatrolled?area=640221202204&week=2022-W02", headers=viewer).json()
    assert GRID in [g["grid_code"] for g in other_week["grids"]]
    page = client.get(f"/patrols/unpatrolled?area=640221202204&week={week}",
                      headers=viewer | {"Accept": "text/html"})  # fmt: skip
    assert page.headers["content-type"].startswith("text/html") and "本周未巡查网格" in page.text
    assert page.text.count("<tr data-grid=") == len(codes) - 1
    bad = client.get("/patrols/unpatrolled?area=640221202204&week=2022-53", headers=viewer)
    assert bad.status_code == 400 and "ISO" in bad.json()["detail_zh"]
    assert client.get("/patrols/unpatrolled?area=640221202204").status_code == 401
