"""Datums and conversions (坐标系): GCJ-02/BD-09 formulas and their exact inverses, CRS names, zones."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapely
from pyproj import CRS, Geod
from shapely.geometry import MultiPoint, Polygon

from gis.crs import (
    Datum,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_from_wgs84,
    geometry_to_wgs84,
    metric_srid,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gis.errors import InvalidParameter

SEATS_FILE = Path(__file__).resolve().parents[1] / "data" / "sources" / "township_seats.geojson"
SEATS: list[dict[str, Any]] = json.loads(SEATS_FILE.read_text(encoding="utf-8"))["features"]
GEOD = Geod(ellps="WGS84")


def ningxia_points(n: int = 2000, seed: int = 20220217) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    return rng.uniform(105.5, 107.5, n), rng.uniform(37.0, 39.5, n)


def coords(geom: shapely.Geometry) -> np.ndarray[Any, Any]:
    return shapely.get_coordinates(geom)


# --- the published formulas -----------------------------------------------------------------


def test_the_fixture_has_27_seats_with_both_coordinates() -> None:
    assert len(SEATS) == 27
    assert all(len(seat["properties"]["gcj02"]) == 2 for seat in SEATS)


@pytest.mark.parametrize("seat", SEATS, ids=[seat["properties"]["code"] for seat in SEATS])
def test_township_seats_gcj02_to_wgs84_matches_the_stored_point(seat: dict[str, Any]) -> None:
    gcj_lon, gcj_lat = seat["properties"]["gcj02"]
    wgs_lon, wgs_lat = seat["geometry"]["coordinates"]
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert lon == pytest.approx(wgs_lon, abs=1e-6)
    assert lat == pytest.approx(wgs_lat, abs=1e-6)
    # and forward again: the stored WGS84 point (6 decimals) lands on the original GCJ-02 pair
    back_lon, back_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert back_lon == pytest.approx(gcj_lon, abs=1e-6)
    assert back_lat == pytest.approx(gcj_lat, abs=1e-6)
    assert gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)) == pytest.approx((lon, lat), abs=1e-9)


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # published reference values of the same formula (eviltransform, coordtransform tests)
        ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
        ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
        ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
        ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ],
)
def test_gcj02_forward_matches_published_values(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-10)


def test_bd09_forward_matches_published_value() -> None:
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-10)


def test_gcj02_inverse_of_forward_within_1e8_degrees_on_2000_points() -> None:
    lon, lat = ningxia_points()
    wgs = MultiPoint(np.column_stack((lon, lat)))
    shifted = geometry_from_wgs84(wgs, Datum.GCJ02)
    assert (coords(shifted) - coords(wgs))[:, 0].min() > 3e-3  # really shifted, ≈ 400 m east
    error = np.abs(coords(geometry_to_wgs84(shifted, Datum.GCJ02)) - coords(wgs)).max()
    assert error < 1e-8


def test_bd09_inverse_of_forward_within_1e8_degrees_on_2000_points() -> None:
    lon, lat = ningxia_points(seed=7)
    wgs = MultiPoint(np.column_stack((lon, lat)))
    shifted = geometry_from_wgs84(wgs, Datum.BD09)
    assert (coords(shifted) - coords(wgs))[:, 0].min() > 8e-3  # ≈ 1 km east
    error = np.abs(coords(geometry_to_wgs84(shifted, Datum.BD09)) - coords(wgs)).max()
    assert error < 1e-8


def test_scalar_round_trips_on_a_sample() -> None:
    lon, lat = ningxia_points(n=100, seed=3)
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        assert gcj02_to_wgs84(*wgs84_to_gcj02(x, y)) == pytest.approx((x, y), abs=1e-8)
        assert bd09_to_wgs84(*wgs84_to_bd09(x, y)) == pytest.approx((x, y), abs=1e-8)
        gcj = wgs84_to_gcj02(x, y)
        assert bd09_to_gcj02(*gcj02_to_bd09(*gcj)) == pytest.approx(gcj, abs=1e-8)
        assert wgs84_to_bd09(x, y) == pytest.approx(gcj02_to_bd09(*gcj), abs=1e-12)


def test_gcj02_offset_in_ningxia_is_a_few_hundred_metres_to_the_east() -> None:
    lon, lat = ningxia_points()
    shifted = coords(geometry_from_wgs84(MultiPoint(np.column_stack((lon, lat))), Datum.GCJ02))
    azimuth, _, distance = GEOD.inv(lon, lat, shifted[:, 0], shifted[:, 1])
    assert distance.min() > 200.0 and distance.max() < 700.0
    assert azimuth.min() > 45.0 and azimuth.max() < 135.0


def test_bd09_offset_in_ningxia_is_about_a_kilometre() -> None:
    lon, lat = ningxia_points()
    shifted = coords(geometry_from_wgs84(MultiPoint(np.column_stack((lon, lat))), Datum.BD09))
    _, _, distance = GEOD.inv(lon, lat, shifted[:, 0], shifted[:, 1])
    assert distance.min() > 800.0 and distance.max() < 1600.0


@pytest.mark.parametrize("point", [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (71.9, 38.0)])
def test_gcj02_is_identity_outside_china(point: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point
    assert to_wgs84(*point, Datum.GCJ02) == point


def test_bd09_shift_applies_everywhere_and_still_round_trips() -> None:
    paris = (2.3522, 48.8566)
    assert wgs84_to_bd09(*paris) != pytest.approx(paris, abs=1e-3)
    assert bd09_to_wgs84(*wgs84_to_bd09(*paris)) == pytest.approx(paris, abs=1e-9)


@pytest.mark.parametrize("datum", list(Datum))
def test_to_and_from_wgs84_dispatch_by_datum(datum: Datum) -> None:
    point = (106.2, 38.3)
    expected = {
        Datum.WGS84: point,
        Datum.CGCS2000: point,
        Datum.GCJ02: wgs84_to_gcj02(*point),
        Datum.BD09: wgs84_to_bd09(*point),
    }[datum]
    assert from_wgs84(*point, datum) == expected
    assert to_wgs84(*expected, datum) == pytest.approx(point, abs=1e-9)


# --- geometries -----------------------------------------------------------------------------


def circle(n: int, z: bool = False) -> Polygon:
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    xy = [106.5 + 0.05 * np.cos(t), 38.5 + 0.05 * np.sin(t)]
    return Polygon(np.column_stack([*xy, np.full(n, 1100.0)] if z else xy))


def test_geometry_to_wgs84_keeps_validity_and_vertex_count_and_matches_scalars() -> None:
    polygon = Polygon(circle(60).exterior.coords, [[(106.5, 38.49), (106.51, 38.5), (106.5, 38.51), (106.5, 38.49)]])
    assert polygon.is_valid
    for datum in (Datum.GCJ02, Datum.BD09):
        out = geometry_to_wgs84(polygon, datum)
        assert out.geom_type == "Polygon" and out.is_valid
        assert shapely.get_num_coordinates(out) == shapely.get_num_coordinates(polygon)
        expected = [to_wgs84(x, y, datum) for x, y in coords(polygon).tolist()]
        # the vectorised solver stops on the largest step of all vertices, the scalar one per point
        assert np.allclose(coords(out), expected, rtol=0.0, atol=1e-9)


@pytest.mark.parametrize("datum", [Datum.WGS84, Datum.CGCS2000])
def test_geometry_to_wgs84_is_identity_for_wgs84_and_cgcs2000(datum: Datum) -> None:
    polygon = circle(50)
    assert geometry_to_wgs84(polygon, datum).equals_exact(polygon, tolerance=0.0)


def test_geometry_to_wgs84_drops_altitude() -> None:
    out = geometry_to_wgs84(circle(20, z=True), Datum.GCJ02)
    assert not out.has_z
    assert out.is_valid


def test_10000_vertex_polygon_converts_well_under_a_second() -> None:
    polygon = circle(9_999)
    start = time.perf_counter()
    out = geometry_to_wgs84(polygon, Datum.BD09)
    elapsed = time.perf_counter() - start
    assert shapely.get_num_coordinates(out) == 10_000
    assert elapsed < 0.5


# --- names of coordinate systems ------------------------------------------------------------

SPELLINGS = {
    Datum.WGS84: [
        "EPSG:4326",
        "4326",
        "urn:ogc:def:crs:EPSG::4326",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "CRS84",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "WGS84",
        "  epsg:4326 ",
        "wgs84",
    ],
    Datum.CGCS2000: [
        "EPSG:4490",
        "4490",
        "urn:ogc:def:crs:EPSG::4490",
        "http://www.opengis.net/def/crs/EPSG/0/4490",
        "CGCS2000",
        "cgcs2000",
    ],
    Datum.GCJ02: ["GCJ-02", "GCJ02", "gcj-02", " gcj02 "],
    Datum.BD09: ["BD-09", "BD09", "bd09ll", "bd-09"],
}


@pytest.mark.parametrize(
    ("spelling", "datum"), [(spelling, datum) for datum, names in SPELLINGS.items() for spelling in names]
)
def test_parse_crs_accepts_every_listed_spelling(spelling: str, datum: Datum) -> None:
    assert parse_crs(spelling) is datum


@pytest.mark.parametrize("value", [None, "", "   "])
def test_parse_crs_defaults_to_wgs84(value: str | None) -> None:
    assert parse_crs(value) is Datum.WGS84


def test_datum_values() -> None:
    assert [d.value for d in Datum] == ["EPSG:4326", "EPSG:4490", "GCJ-02", "BD-09"]


@pytest.mark.parametrize("value", ["EPSG:3857", "EPSG:4545", "4544", "urn:ogc:def:crs:EPSG::4545", "EPSG:32648"])
def test_parse_crs_refuses_projected_crs_and_says_send_lon_lat(value: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_crs(value, field="crs")
    error = caught.value
    assert error.extra["parameter"] == "crs"
    for accepted in ("EPSG:4326", "EPSG:4490", "GCJ-02", "BD-09"):
        assert accepted in error.detail_zh and accepted in error.detail_en
    assert "投影坐标系" in error.detail_zh and "经纬度" in error.detail_zh
    assert "projected" in error.detail_en and "lon/lat" in error.detail_en


@pytest.mark.parametrize("value", ["foo", "EPSG:4327", "GCJ", "bd-09mc", "EPSG:999999"])
def test_parse_crs_refuses_unknown_names_with_the_accepted_list(value: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_crs(value, field="import_crs")
    error = caught.value
    assert error.extra["parameter"] == "import_crs"
    assert error.extra["accepted"] == ["EPSG:4326", "EPSG:4490", "GCJ-02", "BD-09"]
    assert "不支持的坐标系" in error.detail_zh and "GCJ-02" in error.detail_zh
    assert "unsupported" in error.detail_en and "BD-09" in error.detail_en
    assert "projected" not in error.detail_en


# --- metric zones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "srid"),
    [
        (106.4, 4544),
        (106.6, 4545),
        (106.5, 4545),
        (105.0, 4544),
        (75.0, 4534),
        (73.5, 4534),
        (135.0, 4554),
        (136.5, 4554),
    ],
)
def test_metric_srid(lon: float, srid: int) -> None:
    assert metric_srid(lon) == srid


@pytest.mark.parametrize("lon", [73.4, 136.6, -106.5, math.nan])
def test_metric_srid_outside_china_raises(lon: float) -> None:
    with pytest.raises(ValueError, match="3-degree"):
        metric_srid(lon)


@pytest.mark.parametrize("central", [75, 105, 108, 135])
def test_metric_srid_codes_are_the_cgcs2000_zones_pyproj_knows(central: int) -> None:
    crs = CRS.from_epsg(metric_srid(central + 0.4))
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {central}E"
    assert crs.is_projected
