"""Read API against the sample: GeoJSON validity, filters, paging and every error path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from gis.lifecycle import RUNNING_STATUSES

GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
TOO_MANY_DECIMALS = re.compile(r"\d+\.\d{8,}")


def _rings(geom: BaseGeometry) -> list[Any]:
    polygons = list(getattr(geom, "geoms", [geom])) if geom.geom_type.endswith("Polygon") else []
    return [p for p in polygons if p.geom_type == "Polygon"]


def assert_rfc7946(fc: dict[str, Any], raw: str) -> None:
    """Lon/lat in range, exterior rings counter-clockwise, holes clockwise, ≤ 7 decimals."""
    assert fc["type"] == "FeatureCollection"
    assert not TOO_MANY_DECIMALS.search(_coordinates_text(raw))
    for feature in fc["features"]:
        assert feature["type"] == "Feature" and "crs" not in feature["geometry"]
        geom = shape(feature["geometry"])
        minx, miny, maxx, maxy = geom.bounds
        assert 105.5 < minx <= maxx < 107.5 and 37.0 < miny <= maxy < 39.5, feature["id"]
        for polygon in _rings(geom):
            assert polygon.exterior.is_ccw
            assert all(not hole.is_ccw for hole in polygon.interiors)


def _coordinates_text(raw: str) -> str:
    return " ".join(re.findall(r'"coordinates"\s*:\s*(\[[\d\[\]\s.,-]*\])', raw))


def get_ok(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(GEOJSON)
    body: dict[str, Any] = response.json()
    return body


def get_problem(client: TestClient, url: str, status: int) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["detail"] and body["detail_zh"] and body["title"]
    return body


def test_health(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "db": "ok"}


def test_home_page_is_chinese_with_attribution(client: TestClient) -> None:
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    for expected in ("乡村人居环境整治", "利通区", "平罗县", "渠口乡", "Vonng/adcode", "CC BY 4.0", "Natural Earth"):
        assert expected in page
    assert "/grids/640221202204001/patrol-map" in page
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc", "data"}


def test_area_county_township_village_grid(client: TestClient) -> None:
    county = get_ok(client, "/areas/640221")
    assert county["properties"]["level"] == "county" and len(county["properties"]["children"]) == 14
    village = get_ok(client, "/areas/640221202204")["properties"]
    assert village["name"] == "金桥村" and village["parent_code"] == "640221202"
    assert [a["name"] for a in village["ancestors"]] == ["平罗县", "渠口乡"]
    assert village["children"][0]["code"] == "640221202204001"
    grid = get_ok(client, "/areas/640221202204001")
    assert grid["geometry"]["type"] == "MultiPolygon" and grid["properties"]["area_km2"] > 0


@pytest.mark.parametrize(("code", "status"), [("999999", 404), ("64022", 400), ("abcdef", 400)])
def test_area_errors(client: TestClient, code: str, status: int) -> None:
    get_problem(client, f"/areas/{code}", status)


def test_cases_are_valid_geojson(client: TestClient) -> None:
    response = client.get("/cases?limit=1000")
    assert_rfc7946(response.json(), response.text)
    assert response.json()["numberReturned"] == 1000


def test_paging_is_stable_and_complete(client: TestClient, conn: Connection) -> None:
    url: str | None = "/cases?area=640221202&limit=137"
    seen: list[int] = []
    while url:
        page = get_ok(client, url)
        seen.extend(f["id"] for f in page["features"])
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    expected = conn.execute(text("SELECT count(*) FROM cases WHERE township_code = '640221202'")).scalar_one()
    assert seen == sorted(set(seen)) and len(seen) == expected


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("category=garbage_point", lambda p: p["category"] == "garbage_point"),
        ("status=closed,rejected", lambda p: p["status"] in ("closed", "rejected")),
        ("area=640302", lambda p: p["county_code"] == "640302"),
        ("area=640221202204", lambda p: p["village_code"] == "640221202204"),
        ("overdue=true", lambda p: p["overdue"] and p["status"] in RUNNING_STATUSES),
        ("overdue=false", lambda p: not p["overdue"]),
    ],
)
def test_case_filters(client: TestClient, query: str, check: Any) -> None:
    features = get_ok(client, f"/cases?{query}&limit=1000")["features"]
    assert features and all(check(f["properties"]) for f in features)


def test_bbox_filter(client: TestClient) -> None:
    area = box(106.55, 38.84, 106.66, 38.90)
    features = get_ok(client, "/cases?bbox=106.55,38.84,106.66,38.90&limit=1000")["features"]
    assert features and all(shape(f["geometry"]).intersects(area) for f in features)


def test_limit_is_clamped_to_the_maximum(client: TestClient) -> None:
    assert get_ok(client, "/cases?limit=100000")["numberReturned"] == 1000


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-5",
        "limit=abc",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=38.8,106.6,38.9,106.7",
        "bbox=106.7,38.8,106.6,38.9",
        "bbox=NaN,38,106,39",
        "bbox=190,38,191,39",
        "category=nope",
        "category=Garbage Point",
        "status=open",
        "area=999999",
        "area=12345",
        "overdue=maybe",
        "after=-1",
        "catgory=garbage_point",
    ],
)
def test_bad_case_queries_get_a_clear_400(client: TestClient, query: str) -> None:
    get_problem(client, f"/cases?{query}", 400)


def test_swapped_bbox_says_so(client: TestClient) -> None:
    body = get_problem(client, "/cases?bbox=38.8,106.6,38.9,106.7", 400)
    assert "颠倒" in body["detail_zh"] and "swapped" in body["detail"]


def test_private_categories_are_shown_at_village_level(client: TestClient) -> None:
    features = get_ok(client, "/cases?category=dilapidated_house,household_toilet&limit=300")["features"]
    assert features
    seats: dict[str, Any] = {}
    for f in features:
        p = f["properties"]
        assert p["location_precision"] == "village" and p["grid_code"] is None and p["description"] is None
        seat = seats.setdefault(p["village_code"], get_ok(client, f"/areas/{p['village_code']}")["properties"]["seat"])
        assert f["geometry"] == seat


def test_no_personal_data_in_public_output(client: TestClient, conn: Connection) -> None:
    phones = conn.execute(text("SELECT count(*) FROM case_reporter WHERE phone IS NOT NULL")).scalar_one()
    assert phones > 0, "the sample must have reporters for this test to mean anything"
    raw = client.get("/cases?limit=1000").text + client.get("/cases?limit=1000&after=1000").text
    assert "1380000" not in raw and "村民" not in raw and "reporter" not in raw


def test_one_case_and_its_errors(client: TestClient) -> None:
    first = get_ok(client, "/cases?limit=1")["features"][0]
    one = get_ok(client, f"/cases/{first['id']}")
    assert one["properties"]["code"] == first["properties"]["code"]
    assert re.fullmatch(r"\d{6}-\d{4}-\d{6}", one["properties"]["code"])
    get_problem(client, "/cases/999999999", 404)
    get_problem(client, "/cases/abc", 400)
    get_problem(client, "/cases/0", 400)


def test_projects_and_facilities(client: TestClient) -> None:
    roads = get_ok(client, "/projects?kind=road")["features"]
    names = {f["properties"]["name"] for f in roads}
    assert {"清二沟道路", "金水河湾产业路", "韩桥村至吴高路公路道路"} <= names
    assert all(f["properties"]["category"] == "road_project" for f in roads)
    water = get_ok(client, "/projects?kind=water")["features"]
    revetment = next(f for f in water if f["properties"]["name"] == "苦水河古城镇新华桥村段护岸")
    assert float(revetment["properties"]["planned_km"]) == 4.2 and revetment["properties"]["measured_km"] > 0
    assert get_ok(client, f"/projects/{revetment['id']}")["properties"]["subtype"] == "护岸"
    stations = get_ok(client, "/facilities?category=collection_station&area=640302")["features"]
    assert len(stations) == 10
    working = get_ok(client, "/facilities?state=working")["features"]
    assert working and all(f["properties"]["state"] == "working" for f in working)
    get_problem(client, "/projects?kind=air", 400)
    get_problem(client, "/projects?status=finished", 400)
    get_problem(client, "/facilities?state=lost", 400)
    get_problem(client, "/projects/99999", 404)
    get_problem(client, "/facilities/99999", 404)


def test_unknown_path_is_problem_json(client: TestClient) -> None:
    get_problem(client, "/no/such/path", 404)
