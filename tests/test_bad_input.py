"""Bad input on the write paths (错误输入): a clear 4xx problem+json in Chinese and English, and
nothing stored — row counts are the same after each refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.lifecycle import Crew, counts, grid_point, jpeg, login, moved, point

HERE = "HERE"  # replaced by a point inside the demo grid


def _ring(here: tuple[float, float], closed: bool = True) -> list[list[float]]:
    a, b, c = moved(here, 90, 30), moved(here, 0, 30), moved(here, 45, 60)
    ring = [list(here), list(a), list(c), list(b)]
    return [*ring, list(here)] if closed else ring


def _cases(here: tuple[float, float]) -> dict[str, tuple[dict[str, Any], int, str]]:
    lon, lat = here
    bowtie = [[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]]
    many = [[lon + 0.001 * i / 10_000, lat + (0.0005 if i % 2 else 0)] for i in range(10_001)]
    pond = {"type": "Polygon", "coordinates": [_ring(here)]}
    return {
        "self-intersecting polygon": ({"category": "agri_waste", "geometry": {"type": "Polygon", "coordinates": [bowtie]}}, 422, "invalid"),
        "unclosed ring": ({"category": "agri_waste", "geometry": {"type": "Polygon", "coordinates": [_ring(here, False)]}}, 422, "unclosed_ring"),
        "latitude of 106 (swapped)": ({"category": "garbage_point", "geometry": point((lat, lon))}, 422, "swapped_lon_lat"),
        "out of range": ({"category": "garbage_point", "geometry": point((lon + 200, lat))}, 422, "out_of_range"),
        "projected metres, undeclared": ({"category": "garbage_point", "geometry": point((500000.0, 4300000.0))}, 422, "projected_coordinates"),
        "type the category does not allow": ({"category": "garbage_point", "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.001, lat]]}}, 422, "type_not_allowed"),
        "too many vertices": ({"category": "ruined_wall", "geometry": {"type": "LineString", "coordinates": many}}, 422, "too_many_vertices"),
        "legacy crs member": ({"category": "garbage_point", "geometry": point(here) | {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}}, 422, "legacy_crs_member"),
        "unsupported declared crs": ({"category": "garbage_point", "geometry": point(here), "crs": "EPSG:3857"}, 400, ""),
        "unknown category": ({"category": "flying_saucer", "geometry": point(here)}, 422, ""),
        "unknown subtype": ({"category": "garbage_point", "subtype": "雪堆", "geometry": point(here)}, 422, ""),
        "unknown attribute value": ({"category": "garbage_point", "attributes": {"edge": "天边"}, "geometry": point(here)}, 422, ""),
        "unknown photo": ({"category": "garbage_point", "geometry": point(here), "photo_ids": ["0" * 64]}, 422, ""),
        "outside every grid": ({"category": "garbage_point", "geometry": point((116.39, 39.9))}, 422, "outside_grids"),
        "string coordinates": ({"category": "garbage_point", "geometry": {"type": "Point", "coordinates": ["106.6", "38.8"]}}, 422, "bad_coordinates"),
        "unknown field": ({"category": "garbage_point", "geometry": point(here), "priority": "high"}, 422, ""),
        "bad phone": ({"category": "garbage_point", "geometry": point(here), "reporter": {"phone": "call me"}}, 422, ""),
        "polygon for a point category": ({"category": "garbage_point", "geometry": pond}, 422, "type_not_allowed"),
    }  # fmt: skip


CASES = list(_cases((106.6, 38.8)))


@pytest.mark.parametrize("name", CASES)
def test_bad_reports_store_nothing(client: TestClient, conn: Connection, name: str) -> None:
    headers = login(client, "demo-grid-manager")
    body, status, reason = _cases(grid_point(conn))[name]
    before = counts(conn)
    response = client.post("/cases", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["detail"] and problem["detail_zh"] and problem["detail"] != problem["detail_zh"]
    if reason:
        assert problem["reason"] == reason
    assert counts(conn) == before


def test_nan_and_infinity_are_refused(client: TestClient, conn: Connection) -> None:
    headers = login(client, "demo-grid-manager") | {"Content-Type": "application/json"}
    before = counts(conn)
    for raw in ("[NaN, 38.8]", "[106.6, Infinity]"):
        body = '{"category": "garbage_point", "geometry": {"type": "Point", "coordinates": ' + raw + "}}"
        response = client.post("/cases", content=body, headers=headers)
        assert response.status_code == 422 and response.json()["reason"] == "not_finite", response.text
    close_body = json.dumps({"version": 1, "accuracy_m": 5}).replace("5}", "NaN}")
    response = client.post("/cases/1/close", content=close_body, headers=headers)
    assert response.status_code in (400, 422)
    assert counts(conn) == before


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"%PDF-1.4 not a photo", "unsupported_type"), (b"GIF89a" + b"\0" * 40, "unsupported_type"),
     (jpeg()[:200], "corrupt")],
)  # fmt: skip
def test_bad_photos_are_refused(client: TestClient, conn: Connection, data: bytes, reason: str) -> None:
    before = counts(conn)
    response = client.post("/photos", files={"file": ("x.jpg", data, "image/jpeg")})
    assert response.status_code == 422 and response.json()["reason"] == reason, response.text
    assert response.json()["detail_zh"]
    assert counts(conn) == before


def test_oversized_photo(client: TestClient, conn: Connection, settings: Any) -> None:
    before = counts(conn)
    big = b"\xff\xd8\xff" + b"0" * settings.photo_max_bytes
    response = client.post("/photos", files={"file": ("big.jpg", big, "image/jpeg")})
    assert response.status_code == 422 and response.json()["reason"] == "too_large"
    assert response.json()["size_bytes"] == len(big)
    assert counts(conn) == before


def test_bad_action_fields(client: TestClient, conn: Connection) -> None:
    crew = Crew(client)
    case_id = crew.new_case(point(grid_point(conn)))
    before = counts(conn)
    for body in ({"version": 1, "deadline": "tomorrow"}, {"version": "one"}, {"version": 1, "decision": "maybe"},
                 {"version": 1, "accuracy_m": -3}, {"version": 1, "surprise": True}):  # fmt: skip
        response = client.post(f"/cases/{case_id}/register", json=body, headers=crew.inspector)
        assert response.status_code == 422, response.text
        assert response.json()["detail_zh"]
    assert counts(conn) == before
