"""On-site close-out (现场结案): the distance rule at 99 m / 101 m for points, lines and polygons,
positions in WGS84, CGCS2000 and GCJ-02, the accuracy limit, water quality and photo evidence."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from gis.crs import wgs84_to_gcj02
from tests.lifecycle import Crew, act, counts, grid_point, jpeg, moved, point, upload

Shape = tuple[str, dict[str, Any], tuple[float, float]]


@pytest.fixture
def crew(client: TestClient) -> Crew:
    return Crew(client)


def _shape(kind: str, centre: tuple[float, float]) -> Shape:
    """A case geometry and the point from which to walk north to measure the distance to it."""
    west, east = moved(centre, 270, 40), moved(centre, 90, 40)
    if kind == "point":
        return "garbage_point", point(centre), centre
    if kind == "line":
        return "ruined_wall", {"type": "LineString", "coordinates": [list(west), list(east)]}, centre
    north = moved(centre, 0, 30)
    sw, se = moved(west, 180, 30), moved(east, 180, 30)
    nw, ne = (west[0], north[1]), (east[0], north[1])
    ring = [list(sw), list(se), list(ne), list(nw), list(sw)]
    return "black_odorous_water", {"type": "Polygon", "coordinates": [ring]}, (centre[0], north[1])


def _resolved_case(crew: Crew, conn: Connection, kind: str) -> tuple[int, tuple[float, float], str]:
    category, geometry, edge = _shape(kind, grid_point(conn))
    case_id = crew.new_case(geometry, category)
    crew.to_state(case_id, "resolved")
    return case_id, edge, category


PASSING_WATER = {"transparency_cm": 40, "dissolved_oxygen_mg_l": 4.1, "ammonia_nitrogen_mg_l": 3.2, "orp_mv": 120}


def _close(
    client: TestClient,
    crew: Crew,
    case_id: int,
    position: tuple[float, float],
    crs: str | None = None,
    expect: int = 200,
    **extra: Any,
) -> dict[str, Any]:
    declared = wgs84_to_gcj02(*position) if crs == "GCJ-02" else position
    body: dict[str, Any] = {"position": point(declared), "accuracy_m": 8, "photo_ids": [upload(client, crew.inspector)]}
    if crs:
        body["crs"] = crs
    return act(client, crew.inspector, case_id, "close", expect=expect, **(body | extra))


@pytest.mark.parametrize("kind", ["point", "line", "polygon"])
@pytest.mark.parametrize("crs", [None, "EPSG:4490", "GCJ-02"])
def test_close_at_99_m_but_not_101_m(
    client: TestClient, conn: Connection, crew: Crew, kind: str, crs: str | None
) -> None:
    case_id, edge, category = _resolved_case(crew, conn, kind)
    water: dict[str, Any] = {"measurements": PASSING_WATER} if category == "black_odorous_water" else {}
    before = counts(conn)
    refused = _close(client, crew, case_id, moved(edge, 0, 101), crs, expect=422, **water)
    assert refused["reason"] == "distance" and refused["limit_m"] == 100
    assert refused["distance_m"] == pytest.approx(101, abs=0.2)
    assert "101 米" in refused["detail_zh"] and "100 米" in refused["detail_zh"]
    assert counts(conn)[:2] == before[:2] and counts(conn)[4] == before[4]
    closed = _close(client, crew, case_id, moved(edge, 0, 99), crs, **water)
    assert closed["properties"]["status"] == "closed"
    event = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"][-1]
    assert event["data"]["distance_m"] == pytest.approx(99, abs=0.2)
    assert event["position_datum"] == (crs or "EPSG:4326")
    stored = event["position"]["coordinates"]
    expected = moved(edge, 0, 99)
    assert stored == pytest.approx(list(expected), abs=1e-7), "stored in WGS84 whatever the datum sent"


def test_inside_a_polygon_is_zero_metres(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "polygon")
    _close(client, crew, case_id, moved(edge, 180, 20), measurements=PASSING_WATER)
    event = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"][-1]
    assert event["data"]["distance_m"] == 0


def test_accuracy_limit(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "point")
    refused = _close(client, crew, case_id, edge, expect=422, accuracy_m=51)
    assert refused["reason"] == "accuracy" and refused["accuracy_limit_m"] == 50
    act(client, crew.inspector, case_id, "close", expect=422, position=point(edge), photo_ids=[])
    _close(client, crew, case_id, edge, accuracy_m=50)


def test_close_needs_position_and_photo(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "point")
    photo = [upload(client, crew.inspector)]
    no_position = act(client, crew.inspector, case_id, "close", expect=422, accuracy_m=5, photo_ids=photo)
    assert no_position["field"] == "position"
    no_photo = act(client, crew.inspector, case_id, "close", expect=422, accuracy_m=5, position=point(edge))
    assert no_photo["field"] == "photo_ids"
    no_accuracy = act(client, crew.inspector, case_id, "close", expect=422, position=point(edge), photo_ids=photo)
    assert no_accuracy["field"] == "accuracy_m"


def test_black_odorous_water_needs_passing_measurements(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "polygon")
    missing = _close(client, crew, case_id, edge, expect=422)
    assert missing["reason"] == "water_quality_missing" and "溶解氧" in missing["detail_zh"]
    failing = _close(
        client,
        crew,
        case_id,
        edge,
        expect=422,
        measurements=PASSING_WATER | {"dissolved_oxygen_mg_l": 1.2, "orp_mv": -80},
    )
    assert failing["reason"] == "water_quality_failed"
    assert set(failing["failed"]) == {"dissolved_oxygen_mg_l", "orp_mv"}
    _close(client, crew, case_id, edge, measurements=PASSING_WATER)
    event = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"][-1]
    assert event["data"]["measurements"]["transparency_cm"] == 40


def test_photo_evidence_is_flagged_not_refused(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "point")
    far = upload(client, crew.inspector, jpeg(moved(edge, 90, 5000), seed=7))
    near = upload(client, crew.inspector, jpeg(moved(edge, 90, 20), seed=8))
    act(
        client,
        crew.inspector,
        case_id,
        "close",
        position=point(edge),
        accuracy_m=5,
        photo_ids=[far, near],
        remedied_geometry={
            "type": "Polygon",
            "coordinates": [[list(edge), list(moved(edge, 90, 10)), list(moved(edge, 0, 10)), list(edge)]],
        },
    )
    event = client.get(f"/cases/{case_id}/events", headers=crew.inspector).json()["events"][-1]
    assert event["data"]["evidence"]["flags"] == ["photo_far_from_position"]
    distances = sorted(p["exif_distance_m"] for p in event["data"]["evidence"]["photos"])
    assert distances[0] == pytest.approx(20, abs=1) and distances[1] == pytest.approx(5000, abs=5)
    remedied = conn.execute(text("SELECT GeometryType(remedied_geom) FROM cases WHERE id = :i"), {"i": case_id})
    assert remedied.scalar_one() == "POLYGON"


def test_closed_late_is_recorded(client: TestClient, conn: Connection, crew: Crew) -> None:
    case_id, edge, _category = _resolved_case(crew, conn, "point")
    conn.execute(text("UPDATE cases SET deadline = current_date - 2 WHERE id = :i"), {"i": case_id})
    closed = _close(client, crew, case_id, edge)
    assert closed["properties"]["closed_on_time"] is False and closed["properties"]["overdue"] is False
