"""OGC API – Features over HTTP (Parts 1–3): documents, paging, CRS, CQL2, public and staff views."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

import shapely
from shapely.geometry import shape

from tests.lifecycle import GRID, add_case, grid_point, login

ITEMS = "/collections/{}/items"
GP = ITEMS.format("garbage_point_points")


def get_json(client: TestClient, url: str, status: int = 200, **kw: Any) -> Any:
    response = client.get(url, **kw)
    assert response.status_code == status, response.text[:800]
    return response.json()


def ogc_error(client: TestClient, url: str, status: int = 400) -> dict[str, Any]:
    body: dict[str, Any] = get_json(client, url, status)
    assert body["code"] and body["description"] and body["description_zh"], body
    return body


def count_sql(conn: Connection, where: str, **params: Any) -> int:
    return int(conn.execute(text("SELECT count(*) FROM cases c WHERE " + where), params).scalar_one())


def test_landing_conformance_and_openapi(client: TestClient) -> None:
    landing = get_json(client, "/", headers={"Accept": "application/json"})
    rels = {link["rel"] for link in landing["links"]}
    assert {"service-desc", "conformance", "data"} <= rels
    assert client.get("/", headers={"Accept": "text/html"}).headers["content-type"].startswith("text/html")
    classes = get_json(client, "/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes
    api = get_json(client, "/openapi.json")
    assert api["openapi"].startswith("3.0.")
    items = api["paths"]["/collections/{collectionId}/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 1000 and params["limit"]["schema"]["default"] == 100
    assert params["bbox"]["schema"]["type"] == "array" and params["bbox"]["explode"] is False
    assert {"status", "filter", "filter-lang", "crs", "bbox-crs", "datetime", "f"} <= set(params)
    assert "application/geo+json" in items["responses"]["200"]["content"]
    assert {"400", "404"} <= set(items["responses"])
    assert '"type": "null"' not in json.dumps(api) and '"const"' not in json.dumps(api)


def test_collections_never_mix_geometry_types(client: TestClient) -> None:
    doc = get_json(client, "/collections")
    ids = [c["id"] for c in doc["collections"]]
    assert {"garbage_point_points", "ruined_wall_lines", "dilapidated_house_polygons", "counties", "grids"} <= set(ids)
    assert "ruined_wall_polygons" not in ids  # allowed by the category, but empty: not listed
    assert get_json(client, "/collections/ruined_wall_polygons")["id"] == "ruined_wall_polygons"
    families = {
        "points": {"Point", "MultiPoint"},
        "lines": {"LineString", "MultiLineString"},
        "polygons": {"Polygon", "MultiPolygon"},
    }
    for cid in ids:
        page = get_json(client, ITEMS.format(cid) + "?limit=1000")
        kinds = {f["geometry"]["type"] for f in page["features"]}
        suffix = "polygons" if cid in ("counties", "townships", "villages", "grids") else cid.rsplit("_", 1)[1]
        assert kinds and kinds <= families[suffix], (cid, kinds)
    one = get_json(client, "/collections/garbage_point_points")
    assert one == next(c for c in doc["collections"] if c["id"] == "garbage_point_points")
    assert one["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert "http://www.opengis.net/def/crs/EPSG/0/4490" in one["crs"]
    assert ogc_error(client, "/collections/nope_points", 404)["code"] == "NotFound"


def test_paging_with_offset_is_complete_and_numbered(client: TestClient, conn: Connection) -> None:
    expected = count_sql(conn, "category = 'garbage_point'")
    seen: list[int] = []
    url: str | None = GP + "?limit=400"
    while url:
        page = get_json(client, url)
        assert page["numberMatched"] == expected and page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
        assert all(link.get("type") for link in page["links"])
    assert len(seen) == expected and seen == sorted(seen) and len(set(seen)) == expected
    second = get_json(client, GP + "?limit=400&offset=400")
    assert any(link["rel"] == "prev" and "offset" not in link["href"] for link in second["links"])


def test_limit_is_clamped_and_bad_parameters_refused(client: TestClient) -> None:
    assert get_json(client, GP + "?limit=5000")["numberReturned"] == 1000
    for bad in (
        "limit=unlimited",
        "limit=0",
        "offset=-1",
        "ooga=booga",
        "bbox=1,2,3",
        "bbox=1,2,x,4",
        "crs=EPSG:9999",
        "bbox-crs=urn:nope",
        "datetime=yesterday",
        "f=pdf",
        "status=finished",
        "overdue=maybe",
        "filter=status%20%3D",
        "filter-lang=sql",
        "limit=1&limit=2",
    ):
        body = ogc_error(client, f"{GP}?{bad}")
        assert body["code"] == "InvalidParameterValue", bad
    assert "3" in ogc_error(client, GP + "?bbox=1,2,3")["description"]
    assert "EPSG/0/4490" in ogc_error(client, GP + "?crs=EPSG:9999")["description"]
    assert ogc_error(client, GP + "/99999999", 404)["code"] == "NotFound"
    assert ogc_error(client, GP + "/abc", 404)["code"] == "NotFound"


def test_number_matched_is_omitted_past_the_budget(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from gis.ogc import items

    monkeypatch.setattr(items.ItemsQuery, "__init__", _with_budget(items.ItemsQuery.__init__, 10))
    page = get_json(client, GP + "?limit=5")
    assert "numberMatched" not in page and page["numberReturned"] == 5
    narrow = get_json(client, GP + "?limit=5&filter=code%20%3D%20'none'")
    assert narrow["numberMatched"] == 0


def _with_budget(init: Any, budget: int) -> Any:
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        object.__setattr__(self, "count_budget", budget)

    return patched


def test_bbox_and_crs(client: TestClient, conn: Connection) -> None:
    box = "106.55,38.85,106.65,38.95"
    page = get_json(client, f"{GP}?bbox={box}&limit=1000")
    west, south, east, north = map(float, box.split(","))
    expected = count_sql(
        conn,
        "category = 'garbage_point' AND ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))",
        w=west,
        s=south,
        e=east,
        n=north,
    )
    assert page["numberReturned"] == expected > 0
    lat_lon = get_json(client, f"{GP}?bbox=38.85,106.55,38.95,106.65&bbox-crs=EPSG:4326&crs=EPSG:4326&limit=1000")
    assert [f["id"] for f in lat_lon["features"]] == [f["id"] for f in page["features"]]
    first, flipped = page["features"][0]["geometry"]["coordinates"], lat_lon["features"][0]["geometry"]["coordinates"]
    assert flipped == [first[1], first[0]]
    response = client.get(f"{GP}?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/4544")
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4544>"
    northing, easting = response.json()["features"][0]["geometry"]["coordinates"]
    assert 4_000_000 < northing < 4_500_000 and 300_000 < easting < 800_000
    gk = get_json(
        client, f"{GP}?bbox={northing - 50},{easting - 50},{northing + 50},{easting + 50}&bbox-crs=EPSG:4544&limit=1000"
    )
    assert response.json()["features"][0]["id"] in [f["id"] for f in gk["features"]]
    cgcs = get_json(client, f"{GP}?limit=1&crs=EPSG:4490")["features"][0]["geometry"]["coordinates"]
    assert cgcs == [first[1], first[0]] or cgcs[0] < 90


def test_bbox_pages_run_nearest_the_centre_first(client: TestClient, conn: Connection) -> None:
    """A bbox page is ordered by distance from the box's centre, then id: paging through it yields every
    match once in that order, and two cases on one spot split across two pages keep their id order."""
    west, south, east, north = 106.55, 38.85, 106.65, 38.95
    twins = [add_case(conn, "garbage_point", "POINT({} {})".format(*grid_point(conn))) for _ in range(2)]
    expected = [
        int(i)
        for i in conn.execute(
            text("""
            SELECT id FROM cases, ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box
            WHERE category = 'garbage_point' AND ST_Intersects(geom, box)
            ORDER BY geom <-> ST_Centroid(box), id
            """),
            {"w": west, "s": south, "e": east, "n": north},
        ).scalars()
    ]
    assert 20 < len(expected) < 1000 and expected.index(twins[0]) + 1 == expected.index(twins[1])
    limit = expected.index(twins[0]) + 1  # the first twin ends page one, the second starts page two
    seen: list[int] = []
    while len(seen) <= len(expected):
        page = get_json(client, f"{GP}?bbox={west},{south},{east},{north}&limit={limit}&offset={len(seen)}")
        assert page["numberMatched"] == len(expected)
        seen += [f["id"] for f in page["features"]]
        if page["numberReturned"] < limit:
            break
    assert seen == expected
    assert seen[limit - 1] == twins[0] and seen[limit] == twins[1]


def test_bbox_page_filtered_on_a_joined_column_stays_in_id_order(client: TestClient, conn: Connection) -> None:
    """Nearest-first needs the ids from the cases table alone; a filter on the village name (a join)
    keeps the documented id order, still total across pages."""
    box = "106.55,38.85,106.65,38.95"
    name = conn.execute(
        text("""
        SELECT v.name FROM cases c JOIN region v ON v.code = c.village_code
        WHERE c.category = 'garbage_point'
          AND ST_Intersects(c.geom, ST_MakeEnvelope(106.55, 38.85, 106.65, 38.95, 4326))
        GROUP BY v.name ORDER BY count(*) DESC LIMIT 1
        """)
    ).scalar_one()
    whole = get_json(client, f"{GP}?bbox={box}&village_name={name}&limit=1000")["features"]
    ids = [f["id"] for f in whole]
    assert len(ids) > 3 and ids == sorted(ids)
    second = get_json(client, f"{GP}?bbox={box}&village_name={name}&limit=2&offset=2")["features"]
    assert [f["id"] for f in second] == ids[2:4]


def test_simple_filters_and_datetime(client: TestClient, conn: Connection) -> None:
    page = get_json(client, GP + "?status=closed&edge=路边&limit=1000")
    expected = count_sql(conn, "category = 'garbage_point' AND status = 'closed' AND attributes->>'edge' = '路边'")
    assert page["numberReturned"] == expected > 0
    assert {f["properties"]["edge"] for f in page["features"]} == {"路边"}
    recent = get_json(client, GP + "?datetime=2000-01-01T00:00:00Z/..&limit=1")
    assert recent["numberMatched"] == count_sql(conn, "category = 'garbage_point'")
    assert get_json(client, GP + "?datetime=../2000-01-01&limit=1")["numberReturned"] == 0
    assert ogc_error(client, "/collections/counties/items?status=closed")["parameter"] == "status"


CQL = [
    ("status = 'closed' AND subtype IN ('草堆', '柴堆')", "status = 'closed' AND subtype IN ('草堆', '柴堆')"),
    ("title LIKE '%草堆%'", "title LIKE '%草堆%'"),
    ("round BETWEEN 2 AND 5", "round BETWEEN 2 AND 5"),
    ("CASEI(status) = CASEI('CLOSED')", "status = 'closed'"),
    ("NOT (status <> 'rejected') OR deadline IS NULL", "status = 'rejected' OR deadline IS NULL"),
    ("T_AFTER(reported_at, TIMESTAMP('2026-01-01T00:00:00Z'))", "reported_at > '2026-01-01T00:00:00Z'"),
    (
        "S_INTERSECTS(geometry, BBOX(106.55, 38.85, 106.65, 38.95))",
        "ST_Intersects(geom, ST_MakeEnvelope(106.55, 38.85, 106.65, 38.95, 4326))",
    ),
    (
        "S_WITHIN(geometry, POLYGON((106.5 38.8, 106.7 38.8, 106.7 39.0, 106.5 39.0, 106.5 38.8)))",
        "ST_Within(geom, ST_MakeEnvelope(106.5, 38.8, 106.7, 39.0, 4326))",
    ),
    (
        "S_DWITHIN(geometry, POINT(106.6 38.9), 3000)",
        "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(106.6, 38.9), 4326)::geography, 3000)",
    ),
]


@pytest.mark.parametrize(("cql", "sql"), CQL)
def test_cql2_text_matches_sql(client: TestClient, conn: Connection, cql: str, sql: str) -> None:
    page = get_json(client, GP, params={"filter": cql, "limit": 1000})
    expected = count_sql(conn, f"category = 'garbage_point' AND ({sql})")
    assert page["numberMatched"] == expected and page["numberReturned"] == min(expected, 1000)


def test_cql2_json_and_gdal_alias(client: TestClient, conn: Connection) -> None:
    tree = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "status"}, "closed"]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [106.6, 38.9]}]},
        ],
    }
    page = get_json(
        client,
        ITEMS.format("villages"),
        params={
            "filter": json.dumps({"op": "=", "args": [{"property": "code"}, "640221202204"]}),
            "filter-lang": "cql2-json",
        },
    )
    assert [f["id"] for f in page["features"]] == ["640221202204"]
    assert get_json(client, GP, params={"filter": json.dumps(tree), "filter-lang": "cql2-json"})["numberReturned"] >= 0
    alias = get_json(
        client,
        GP,
        params={"filter": "(status = 'closed') AND (edge = '路边')", "filter-lang": "cql-text", "limit": 1000},
    )
    assert alias["numberReturned"] == count_sql(
        conn, "category='garbage_point' AND status='closed' AND attributes->>'edge'='路边'"
    )


@pytest.mark.parametrize(
    ("cql", "why"),
    [
        ("reporter_phone LIKE '138%'", "private"),
        ('"x; drop table cases" = 1', "not queryable"),
        ("status = ", "cannot be parsed"),
        ("round = 'abc'", "does not match"),
        ("S_DWITHIN(geometry, POINT(106.6 38.9), 1e9)", "0–100000"),
        ("S_INTERSECTS(geometry, POINT(38.9 106.6))", "swapped"),
    ],
)
def test_bad_filters_are_refused_before_sql(client: TestClient, cql: str, why: str) -> None:
    body = ogc_error(client, GP + "?" + "filter=" + cql.replace("%", "%25").replace(";", "%3B").replace(" ", "%20"))
    assert why in body["description"].lower() or why in json.dumps(body, ensure_ascii=False).lower(), body


def test_spatial_literal_in_another_crs(client: TestClient, conn: Connection) -> None:
    lon, lat = 106.6, 38.9
    cql = f"S_DWITHIN(geometry, POINT({lat} {lon}), 3000)"
    page = get_json(client, GP, params={"filter": cql, "filter-crs": "EPSG:4326", "limit": 1000})
    sql = "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(106.6, 38.9), 4326)::geography, 3000)"
    assert page["numberReturned"] == count_sql(conn, f"category = 'garbage_point' AND {sql}") > 0


def test_public_view_hides_private_locations_and_personal_data(client: TestClient, conn: Connection) -> None:
    page = get_json(client, ITEMS.format("dilapidated_house_polygons") + "?limit=1000")
    villages = {
        r[0]: shape(json.loads(r[1]))
        for r in conn.execute(text("SELECT code, ST_AsGeoJSON(geom) FROM region WHERE level = 'village'"))
    }
    for f in page["features"]:
        props = f["properties"]
        assert props["location_precision"] == "village" and props["grid_code"] is None and props["description"] is None
        assert shape(f["geometry"]).hausdorff_distance(villages[props["village_code"]]) < 1e-6
        assert "reporter_name" not in props and "reporter_phone" not in props
    houses = ITEMS.format("dilapidated_house_points")
    assert "private" in ogc_error(client, houses + "?filter=reporter_name%20IS%20NULL")["description"]
    described = get_json(client, houses, params={"filter": "description IS NOT NULL", "limit": 1000})
    assert described["numberReturned"] == 0  # a hidden description cannot be probed with a filter
    lon, lat = _some_house(conn)
    near = get_json(client, houses, params={"filter": f"S_DWITHIN(geometry, POINT({lon} {lat}), 5)", "limit": 1000})
    assert all(f["properties"]["location_precision"] == "village" for f in near["features"])
    assert not any(shape(f["geometry"]).distance(shapely.Point(lon, lat)) < 1e-5 for f in near["features"])


def _some_house(conn: Connection) -> tuple[float, float]:
    row = conn.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom) FROM cases WHERE category = 'dilapidated_house' "
            "AND GeometryType(geom) = 'POINT' ORDER BY id LIMIT 1"
        )
    ).one()
    return float(row[0]), float(row[1])


def test_staff_see_their_scope_whole(client: TestClient, conn: Connection) -> None:
    headers = login(client, "demo-grid-manager")
    page = get_json(client, ITEMS.format("dilapidated_house_points") + f"?grid_code={GRID}&limit=1000", headers=headers)
    mine = count_sql(conn, "category = 'dilapidated_house' AND grid_code = :g AND ST_Dimension(geom) = 0", g=GRID)
    assert page["numberReturned"] == mine > 0
    assert all(f["properties"]["location_precision"] == "exact" for f in page["features"])
    assert all("reporter_name" in f["properties"] for f in page["features"])
    public = get_json(client, ITEMS.format("dilapidated_house_points") + f"?grid_code={GRID}")
    assert public["numberReturned"] == 0  # the public never sees the grid of a private case


def test_one_feature_queryables_and_html(client: TestClient) -> None:
    first = get_json(client, GP + "?limit=1")["features"][0]
    one = get_json(client, f"{GP}/{first['id']}")
    assert {link["rel"] for link in one["links"]} >= {"self", "collection", "alternate"}
    assert one["geometry"] == first["geometry"]
    q = client.get("/collections/garbage_point_points/queryables")
    assert q.headers["content-type"].startswith("application/schema+json")
    props = q.json()["properties"]
    assert props["edge"]["enum"] == ["路边", "地边", "沟边", "村边", "田边", "林边"]
    assert "reporter_phone" not in props and props["reported_at"]["format"] == "date-time"
    for url in ("/collections", "/conformance", GP + "?limit=3", f"{GP}/{first['id']}", "/collections/villages"):
        page = client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), url
        assert "图层" in page.text
    assert client.get(GP + "?f=json&limit=1").headers["content-type"] == "application/geo+json"
