"""Patrol routes on the sample (巡查路线): the network, the GeoJSON shape, optimality, access points,
network against straight-line costs, views and bad input — against the real PostGIS + pgRouting."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from gis.crs import Datum, from_wgs84
from gis.network import build_road_network, components
from tests.lifecycle import GRID, add_case, grid_point, login, moved

ROUTE = f"/grids/{GRID}/patrol-route"


def route(client: TestClient, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get(ROUTE + query, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body: dict[str, Any] = response.json()
    return body


def stops(fc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in fc["features"] if f["geometry"]["type"] == "Point"]


def line_of(fc: dict[str, Any]) -> dict[str, Any]:
    lines = [f for f in fc["features"] if f["properties"].get("kind") == "route"]
    assert len(lines) == 1 and lines[0]["geometry"]["type"] == "LineString"
    found: dict[str, Any] = lines[0]
    return found


def grid_box(conn: Connection) -> tuple[float, float, float, float]:
    row = conn.execute(
        text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM region WHERE code = :g"),
        {"g": GRID},
    ).one()
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


# ---- the network ------------------------------------------------------------------------------


def test_network_is_noded_snapped_and_measured_on_the_ellipsoid(conn: Connection) -> None:
    bad_cost = conn.execute(
        text("""
        SELECT count(*) FROM road_edge
        WHERE abs(cost - ST_Length(geom::geography)) > 1e-6 * greatest(cost, 1) OR cost <> reverse_cost
    """)
    ).scalar_one()
    assert bad_cost == 0
    ends_off = conn.execute(
        text("""
        SELECT count(*) FROM road_edge e JOIN road_vertex s ON s.id = e.source JOIN road_vertex t ON t.id = e.target
        WHERE ST_Distance(ST_StartPoint(e.geom)::geography, s.geom::geography) > 0.02
           OR ST_Distance(ST_EndPoint(e.geom)::geography, t.geom::geography) > 0.02
    """)
    ).scalar_one()
    assert ends_off == 0
    duplicates = conn.execute(
        text("""
        SELECT count(*) FROM road_vertex a JOIN road_vertex b
          ON a.id < b.id AND a.county_code = b.county_code AND ST_DWithin(a.geom, b.geom, 1e-7)
    """)
    ).scalar_one()
    assert duplicates == 0
    parts = components(conn)
    assert sorted(county for county, _c, _n in parts) == ["640221", "640302"], parts
    # 沿黄路 meets the rest only where it crosses village roads: noding makes those crossings vertices
    shared = conn.execute(
        text("""
        SELECT count(DISTINCT v) FROM (
          SELECT unnest(ARRAY[source, target]) AS v FROM road_edge WHERE name = '沿黄路') y
        WHERE v IN (SELECT unnest(ARRAY[source, target]) FROM road_edge WHERE name <> '沿黄路')
    """)
    ).scalar_one()
    assert shared >= 2
    assert build_road_network(conn) == conn.execute(text("SELECT count(*) FROM road_edge")).scalar_one()


# ---- the GeoJSON shape (DESIGN §9) --------------------------------------------------------------


def test_route_shape_and_numbers(client: TestClient, conn: Connection) -> None:
    fc = route(client)
    assert fc["type"] == "FeatureCollection" and fc["network"] is True and fc["grid_code"] == GRID
    points = stops(fc)
    assert len(points) >= 5 and fc["stops"] == len(points)
    assert [p["properties"]["seq"] for p in points] == list(range(1, len(points) + 1))
    running = 0.0
    for p in points:
        props = p["properties"]
        assert set(props) >= {"seq", "case_id", "code", "category", "leg_m", "cum_m"}
        assert p["id"] == props["case_id"] and props["leg_m"] >= 0
        running += props["leg_m"]
        assert props["cum_m"] == pytest.approx(running, abs=0.5)
    line = line_of(fc)
    assert fc["total_m"] >= points[-1]["properties"]["cum_m"]
    assert line["properties"]["total_m"] == fc["total_m"]
    assert fc["duration_s"] == pytest.approx(fc["total_m"] / 1.2, abs=1)
    ride = route(client, "?mode=ride")
    assert ride["duration_s"] == pytest.approx(ride["total_m"] / 4.2, abs=1) and ride["duration_s"] < fc["duration_s"]
    # the line starts and ends at the village committee (the default start)
    seat = conn.execute(text("SELECT ST_X(seat), ST_Y(seat) FROM region WHERE code = :v"), {"v": GRID[:12]}).one()
    coords = line["geometry"]["coordinates"]
    assert coords[0] == pytest.approx([seat[0], seat[1]], abs=1e-6) and coords[-1] == coords[0]


def _metres(conn: Connection, points: list[list[float]]) -> list[list[float]]:
    rows = conn.execute(
        text("""
        WITH p AS (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326)::geography AS g
                   FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS u(x, y, i))
        SELECT a.i, b.i, ST_Distance(a.g, b.g) FROM p a, p b
        """),
        {"xs": [p[0] for p in points], "ys": [p[1] for p in points]},
    ).all()
    n = len(points)
    out = [[0.0] * n for _ in range(n)]
    for i, j, d in rows:
        out[int(i) - 1][int(j) - 1] = float(d)
    return out


def top_up_open_cases(client: TestClient, conn: Connection, wanted: int) -> None:
    """Add point cases near the grid's inner point until the grid has ``wanted`` open cases to visit.

    How many sample cases are still open depends on the hour the sample was generated at.
    """
    have = len(stops(route(client, f"?costs=straight&max_stops={wanted}")))
    centre = grid_point(conn)
    for k in range(wanted - have):
        lon, lat = moved(centre, 360.0 * k / wanted + 17.0, 60.0 + 25.0 * k)
        add_case(conn, "garbage_point", f"POINT({lon} {lat})")


def test_straight_route_is_the_brute_force_optimum(client: TestClient, conn: Connection) -> None:
    top_up_open_cases(client, conn, 7)
    fc = route(client, "?costs=straight&max_stops=7")
    points = stops(fc)
    assert len(points) == 7 and fc["network"] is False and fc["solver"]["optimal"] is True
    nodes = [fc["start"]["coordinates"]] + [p["geometry"]["coordinates"] for p in points]
    d = _metres(conn, nodes)
    best = min(
        sum(d[a][b] for a, b in itertools.pairwise([0, *order, 0]))
        for order in itertools.permutations(range(1, len(nodes)))
    )
    assert fc["total_m"] == pytest.approx(best, abs=1.0)
    assert len(line_of(fc)["geometry"]["coordinates"]) == len(nodes) + 1


def test_network_costs_follow_the_roads(client: TestClient, conn: Connection) -> None:
    straight = route(client, "?costs=straight")
    network = route(client, "?costs=network")
    assert network["network"] is True and straight["network"] is False
    assert network["total_m"] > straight["total_m"]
    assert any(p["properties"]["leg_on_road"] for p in stops(network))
    assert not any(p["properties"]["leg_on_road"] for p in stops(straight))
    shares = [_share_on_roads(conn, line_of(fc)) for fc in (network, straight)]
    assert shares[0] > shares[1] + 0.15, f"a network route runs along road edges much more: {shares}"
    assert route(client)["total_m"] == network["total_m"], "auto uses the network when one is loaded"


def _share_on_roads(conn: Connection, line: dict[str, Any]) -> float:
    share = conn.execute(
        text("""
        WITH r AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326) AS g)
        SELECT ST_Length(ST_Intersection(r.g, ST_Buffer(ST_Collect(e.geom)::geography, 2)::geometry)::geography)
               / ST_Length(r.g::geography)
        FROM r, road_edge e WHERE e.geom && ST_Expand(r.g, 0.01) GROUP BY r.g
        """),
        {"g": json.dumps(line["geometry"])},
    ).scalar_one()
    return float(share)


def test_lines_and_polygons_are_visited_at_their_nearest_point(client: TestClient, conn: Connection) -> None:
    w, s, e, n = grid_box(conn)
    cx, cy = (w + e) / 2, (s + n) / 2
    line_id = add_case(conn, "black_odorous_water", f"LINESTRING({w + 0.1 * (e - w)} {cy}, {e - 0.1 * (e - w)} {cy})")
    d = 0.0015
    poly_id = add_case(conn, "ruined_wall", f"POLYGON(({cx} {cy + d},{cx + d} {cy + d},{cx + d} {cy + 2 * d},"
                                            f"{cx} {cy + 2 * d},{cx} {cy + d}))")  # fmt: skip
    for costs in ("straight", "network"):
        fc = route(client, f"?costs={costs}")
        found = {p["properties"]["case_id"]: p for p in stops(fc)}
        for case_id in (line_id, poly_id):
            stop = found[case_id]
            assert stop["properties"]["access"] == "nearest_point"
            assert stop["properties"]["access_offset_m"] == pytest.approx(0, abs=0.5)  # planar vs geodesic edge
        west_end = f"{w + 0.1 * (e - w)},{cy + 0.00002}"  # 2 m beside the ditch's west end
        near_start = stops(route(client, f"?costs={costs}&category=black_odorous_water&start={west_end}"))
        entry = next(p for p in near_start if p["properties"]["case_id"] == line_id)
        off_centre = conn.execute(
            text("""SELECT ST_Distance(ST_Centroid(geom)::geography,
                                       ST_SetSRID(ST_GeomFromGeoJSON(:p), 4326)::geography)
                    FROM cases WHERE id = :id"""),
            {"p": json.dumps(entry["geometry"]), "id": line_id},
        ).scalar_one()
        assert off_centre > 20, "a long ditch is entered where it is nearest (by the start), not at its middle"
        if costs == "network":
            expected = conn.execute(
                text("""SELECT ST_AsGeoJSON(ST_ClosestPoint(c.geom, (SELECT e.geom FROM road_edge e
                          WHERE e.county_code = c.county_code ORDER BY e.geom <-> c.geom, e.id LIMIT 1)), 7)
                        FROM cases c WHERE c.id = :id"""),
                {"id": poly_id},
            ).scalar_one()
            assert found[poly_id]["geometry"]["coordinates"] == pytest.approx(json.loads(expected)["coordinates"])


def test_overdue_first_and_max_stops(client: TestClient, conn: Connection) -> None:
    w, s, e, n = grid_box(conn)
    for k in range(3):
        add_case(conn, "garbage_point", f"POINT({w + (0.3 + 0.2 * k) * (e - w)} {s + 0.3 * (n - s)})",
                 deadline="2020-01-01")  # fmt: skip
    fc = route(client, "?overdue_first=true&costs=straight")
    flags = [p["properties"]["overdue"] for p in stops(fc)]
    assert True in flags and False in flags
    assert flags == sorted(flags, reverse=True), "every overdue stop comes before the others"
    few = route(client, "?max_stops=3")
    assert len(stops(few)) == 3 and few["skipped"] == len(stops(fc)) - 3
    assert all(p["properties"]["overdue"] for p in stops(few)), "the most urgent are kept"


def test_private_cases_only_for_staff_in_scope(client: TestClient, conn: Connection) -> None:
    w, s, e, n = grid_box(conn)
    house = add_case(conn, "dilapidated_house", f"POINT({(w + e) / 2} {(s + n) / 2})")
    public = {p["properties"]["case_id"] for p in stops(route(client))}
    staff = {p["properties"]["case_id"] for p in stops(route(client, headers=login(client, "demo-grid-manager")))}
    assert house not in public and house in staff


def test_start_in_gcj02_and_an_open_path(client: TestClient, conn: Connection) -> None:
    w, s, e, n = grid_box(conn)
    start, end = (w + 0.2 * (e - w), s + 0.2 * (n - s)), (e - 0.2 * (e - w), n - 0.2 * (n - s))
    (gx, gy), (ex, ey) = from_wgs84(*start, Datum.GCJ02), from_wgs84(*end, Datum.GCJ02)
    fc = route(client, f"?start={gx},{gy}&crs=GCJ-02&end={ex},{ey}&costs=straight")
    assert fc["start"]["coordinates"] == pytest.approx(list(start), abs=1e-6)
    coords = line_of(fc)["geometry"]["coordinates"]
    assert coords[0] == pytest.approx(list(start), abs=1e-6) and coords[-1] == pytest.approx(list(end), abs=1e-6)


def test_empty_route_is_not_an_error(client: TestClient) -> None:
    fc = route(client, "?category=household_toilet")
    assert fc["features"] == [] and fc["total_m"] == 0 and fc["stops"] == 0
    assert "没有" in fc["message"] and fc["message_en"]


@pytest.mark.parametrize(("query", "status", "parameter"), [
    ("?start=120.1,30.2", 422, "start"),
    ("?end=106.0,20.0", 422, "end"),
    ("?start=abc", 400, "start"),
    ("?start=106.6", 400, "start"),
    ("?category=spaceship", 400, "category"),
    ("?status=lost", 400, "status"),
    ("?max_stops=0", 400, "max_stops"),
    ("?max_stops=999", 400, "max_stops"),
    ("?mode=fly", 400, "mode"),
    ("?colour=red", 400, "colour"),
])  # fmt: skip
def test_bad_input_says_what_is_wrong(client: TestClient, query: str, status: int, parameter: str) -> None:
    response = client.get(ROUTE + query)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["detail_zh"] and problem["detail"]
    assert parameter in (problem.get("parameter"), problem.get("field"))
    if status == 422:
        assert problem["distance_m"] > 100_000 and "千米" in problem["detail_zh"]


@pytest.mark.parametrize(
    ("grid", "status"), [("640221202204099", 404), ("640221202204", 404), ("6402212022040x1", 400)]
)
def test_unknown_grid(client: TestClient, grid: str, status: int) -> None:
    response = client.get(f"/grids/{grid}/patrol-route")
    assert response.status_code == status and response.json()["detail_zh"]
