"""Vector tiles decoded with mapbox-vector-tile: features, properties, rings, aggregation counts."""

from __future__ import annotations

import gzip
import math
from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from gis.access import ANONYMOUS
from gis.ogc import tiles
from gis.ogc.catalogue import find_collection
from gis.ogc.sources import source_for
from tests.lifecycle import login

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def decode(data: bytes) -> dict[str, Any]:
    return dict(mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}))


IN_TILE = text(
    "SELECT count(*) FROM cases c WHERE c.category = :category"
    " AND ST_Intersects(c.geom, ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326))"
)


def in_tile(conn: Connection, category: str, z: int, x: int, y: int) -> int:
    """Cases of ``category`` in tile z/x/y, counted directly in PostGIS."""
    return int(conn.execute(IN_TILE, {"category": category, "z": z, "x": x, "y": y}).scalar_one())


def signed_area(ring: list[list[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True)) / 2


def test_collection_tile_carries_every_feature_with_properties(client: TestClient, conn: Connection) -> None:
    z, x, y = tile_of(106.6, 38.9, 12)
    response = client.get(f"/collections/garbage_point_points/tiles/WebMercatorQuad/{z}/{x}/{y}")
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    layer = decode(response.content)["garbage_point_points"]
    assert len(layer["features"]) == in_tile(conn, "garbage_point", z, x, y) > 0
    props = layer["features"][0]["properties"]
    assert {"code", "category", "status", "subtype"} <= set(props) and props["category"] == "garbage_point"
    assert all(f["geometry"]["type"] == "Point" for f in layer["features"])
    assert response.headers["x-tile-aggregated"] == "none" and response.headers["cache-control"].startswith("public")


def test_polygon_rings_follow_the_mvt_winding_rule(client: TestClient) -> None:
    z, x, y = tile_of(106.6, 38.9, 10)
    data = client.get(f"/collections/villages/tiles/WebMercatorQuad/{z}/{x}/{y}").content
    layer = decode(data)["villages"]
    assert layer["features"]
    for feature in layer["features"]:
        geom = feature["geometry"]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for polygon in polygons:
            assert signed_area(polygon[0]) > 0, feature["properties"]["code"]  # exterior: positive in tile space
            for hole in polygon[1:]:
                assert signed_area(hole) < 0
    raw = mapbox_vector_tile.decode(data)  # the decoder MapLibre's @mapbox/vector-tile mirrors (y up by default)
    assert raw["villages"]["features"]


def test_aggregated_counts_add_up_to_the_real_count(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiles, "MAX_RAW_FEATURES", 100)
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    for z, x, y in (tile_of(106.6, 38.9, 7), tile_of(106.6, 38.9, 9), tile_of(106.3, 38.0, 8)):
        data, aggregated = tiles.build_tile(conn, [source], tiles.check_tile(z, x, y))
        real = in_tile(conn, "garbage_point", z, x, y)
        layer = decode(data).get("garbage_point_points", {"features": []})
        counts = [f["properties"].get("count", 1) for f in layer["features"]]
        assert sum(counts) == real, (z, x, y)
        if real > 100:
            assert aggregated == ["garbage_point_points"] and all(
                f["properties"]["aggregated"] for f in layer["features"]
            )
            assert len(layer["features"]) < real


def test_multi_layer_tile_gzip_etag_and_private_view(client: TestClient) -> None:
    z, x, y = tile_of(106.6, 38.9, 9)
    url = f"/tiles/WebMercatorQuad/{z}/{x}/{y}"
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    layers = decode(response.content)
    assert {"garbage_point_points", "dilapidated_house_points", "villages"} <= set(layers)
    etag = response.headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    raw = client.get(url, headers={"Accept-Encoding": "identity"})
    assert gzip.compress(raw.content) != raw.content and raw.headers["etag"] == etag
    houses = layers["dilapidated_house_points"]["features"]
    seats = {tuple(f["geometry"]["coordinates"]) for f in houses}
    assert len(seats) < len(houses)  # the public sees houses stacked on their village committee point
    staff = client.get(url, headers=login(client, "demo-admin"))
    assert staff.headers["cache-control"].startswith("private")
    exact = decode(staff.content)["dilapidated_house_points"]["features"]
    assert len({tuple(f["geometry"]["coordinates"]) for f in exact}) > len(seats)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/WebMercatorQuad/3/8/1", 404),
        ("/tiles/WebMercatorQuad/23/0/0", 400),
        ("/tiles/WebMercatorQuad/2/x/1", 400),
        ("/collections/nope_points/tiles/WebMercatorQuad/1/0/0", 404),
        ("/tiles/WebMercatorQuad/1/-1/0", 404),
        ("/tiles/WebMercatorQuad/1/0/0?foo=1", 400),
    ],
)
def test_tiles_outside_the_matrix_are_refused(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["description"] and response.json()["description_zh"]


def test_tileset_metadata_and_tilejson(client: TestClient) -> None:
    meta = client.get("/collections/garbage_point_points/tiles/WebMercatorQuad").json()
    assert meta["tileMatrixSetURI"].endswith("WebMercatorQuad") and meta["layers"][0]["id"] == "garbage_point_points"
    template = next(link for link in meta["links"] if link["rel"] == "item")
    assert template["templated"] and "{tileMatrix}/{tileCol}/{tileRow}" in template["href"]
    tj = client.get("/tiles/WebMercatorQuad?f=tilejson").json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith("/tiles/WebMercatorQuad/{z}/{x}/{y}")
    assert "garbage_point_points" in [v["id"] for v in tj["vector_layers"]]
    assert client.get("/tiles").json()["tilesets"]
