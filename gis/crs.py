"""Datums and conversions (坐标系): WGS84, 国家2000坐标系 CGCS2000, 火星坐标 GCJ-02, 百度坐标 BD-09.

VillageMap stores WGS84 (EPSG:4326) lon/lat only (DESIGN §6). Clients may declare another datum:

- CGCS2000 (EPSG:4490) is treated as WGS84: the two differ well under a metre and PROJ does the same.
- GCJ-02 (火星坐标, Gaode/AMap, Tencent) uses the widely published forward formula (Krasovsky
  ellipsoid, polynomial offsets on ``(lon − 105, lat − 35)``); points outside the rough China
  bounding box are left unchanged. The inverse is solved by fixed-point iteration to a step below
  1e-9° (≈ 0.1 mm of the formula); the formula itself matches the official offset to a few metres.
- BD-09 (百度坐标, Baidu ``bd09ll``) is the published shift applied on top of GCJ-02. BD-09 → WGS84
  starts from the published approximate inverse and is then refined against the composed forward
  WGS84 → GCJ-02 → BD-09, so it too is exact to the formula.

Every converter is vectorised with numpy; the scalar functions are thin wrappers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from gis.errors import InvalidParameter

Array = NDArray[np.float64]
Pair = tuple[Array, Array]

# The published GCJ-02 constants: Krasovsky 1940 semi-major axis and first eccentricity squared.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD_X_PI = math.pi * 3000.0 / 180.0
TOLERANCE_DEG = 1e-9
MAX_ITERATIONS = 30


class Datum(StrEnum):
    """The datums a client may declare for lon/lat input (坐标系)."""

    WGS84 = "EPSG:4326"
    CGCS2000 = "EPSG:4490"
    GCJ02 = "GCJ-02"
    BD09 = "BD-09"


def _epsg_spellings(code: int) -> set[str]:
    return {
        f"epsg:{code}",
        str(code),
        f"urn:ogc:def:crs:epsg::{code}",
        f"http://www.opengis.net/def/crs/epsg/0/{code}",
        f"https://www.opengis.net/def/crs/epsg/0/{code}",
    }


_CRS84 = {
    "crs84",
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
}
_SPELLINGS: dict[str, Datum] = {
    **dict.fromkeys(_epsg_spellings(4326) | _CRS84 | {"wgs84"}, Datum.WGS84),
    **dict.fromkeys(_epsg_spellings(4490) | {"cgcs2000"}, Datum.CGCS2000),
    **dict.fromkeys(("gcj-02", "gcj02"), Datum.GCJ02),
    **dict.fromkeys(("bd-09", "bd09", "bd09ll"), Datum.BD09),
}
_EPSG_CODE = re.compile(
    r"^(?:epsg:|urn:ogc:def:crs:epsg:[\d.]*:|https?://www\.opengis\.net/def/crs/epsg/0/)?(\d{4,6})$"
)
_ACCEPTED = "EPSG:4326 (WGS84, default), EPSG:4490 (CGCS2000), GCJ-02, BD-09"
_ACCEPTED_ZH = "EPSG:4326（WGS84，默认）、EPSG:4490（CGCS2000）、GCJ-02（高德/腾讯）、BD-09（百度）"


def parse_crs(value: str | None, field: str = "crs") -> Datum:
    """Read a declared coordinate system (坐标系); ``None`` or ``""`` means WGS84.

    Case and surrounding whitespace are ignored. EPSG codes may be given bare, as ``EPSG:n``, as an
    OGC URN or as an opengis.net URI; ``CRS84`` (lon/lat WGS84) is WGS84. Anything else, notably a
    projected CRS in metres, raises ``InvalidParameter(field, …)`` naming the accepted values.
    """
    if value is None:
        return Datum.WGS84
    if not isinstance(value, str):
        raise _crs_refused(field, repr(value), projected=None)
    key = value.strip().lower()
    if not key:
        return Datum.WGS84
    datum = _SPELLINGS.get(key)
    if datum is None:
        raise _crs_refused(field, value.strip(), projected=_projected_name(key))
    return datum


def _projected_name(key: str) -> str | None:
    """The PROJ name of an EPSG code if it is a projected CRS (e.g. 3857, 4545), else ``None``."""
    match = _EPSG_CODE.match(key)
    if match is None:
        return None
    try:
        crs = CRS.from_epsg(int(match.group(1)))
    except CRSError:  # an unknown code simply gets the plain message
        return None
    return str(crs.name) if crs.is_projected else None


def _crs_refused(field: str, shown: str, projected: str | None) -> InvalidParameter:
    zh = f"参数 {field}：不支持的坐标系“{shown}”。可用：{_ACCEPTED_ZH}。"
    en = f"{field}: unsupported coordinate system '{shown}'. Accepted: {_ACCEPTED}."
    if projected is not None:
        zh += f"“{shown}”是以米为单位的投影坐标系（{projected}），坐标须以经纬度 [经度, 纬度] 提交，请先转换。"
        en += f" '{shown}' is a projected CRS in metres ({projected}): send coordinates as lon/lat; convert first."
    else:
        zh += "坐标须为经纬度 [经度, 纬度]。"
        en += " Coordinates must be lon/lat."
    accepted = [d.value for d in Datum]
    return InvalidParameter(field, zh, en, value=shown, accepted=accepted)


# --- GCJ-02 (火星坐标) -----------------------------------------------------------------------


def _out_of_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    """The published rough bounding-box test: outside it GCJ-02 equals WGS84."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _poly_lat(x: Array, y: Array) -> Array:
    base = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    wave_x = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    wave_y = 20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)
    long_y = 160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)
    result: Array = base + (wave_x + wave_y + long_y) * 2.0 / 3.0
    return result


def _poly_lon(x: Array, y: Array) -> Array:
    base = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    wave_x = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    wave_x2 = 20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)
    long_x = 150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)
    result: Array = base + (wave_x + wave_x2 + long_x) * 2.0 / 3.0
    return result


def _wgs_to_gcj(lon: Array, lat: Array) -> Pair:
    """GCJ-02 forward formula, vectorised (火星坐标加偏)."""
    x, y = lon - 105.0, lat - 35.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = _poly_lat(x, y) * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = _poly_lon(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _out_of_china(lon, lat)
    return lon + np.where(outside, 0.0, dlon), lat + np.where(outside, 0.0, dlat)


def _gcj_to_bd(lon: Array, lat: Array) -> Pair:
    """Published GCJ-02 → BD-09 shift (百度坐标加偏)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: Array, lat: Array) -> Pair:
    """Published approximate BD-09 → GCJ-02 inverse; only a starting point for the exact one."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd(lon: Array, lat: Array) -> Pair:
    return _gcj_to_bd(*_wgs_to_gcj(lon, lat))


def _invert(forward: Callable[[Array, Array], Pair], lon: Array, lat: Array, start: Pair) -> Pair:
    """Solve ``forward(w) = (lon, lat)`` by fixed-point iteration ``w ← w − (forward(w) − target)``.

    The offsets vary slowly (Jacobian ≪ 1), so each step gains two to three digits; iteration stops
    when the largest step is below ``TOLERANCE_DEG`` or after ``MAX_ITERATIONS``.
    """
    w_lon, w_lat = start[0].copy(), start[1].copy()
    if w_lon.size == 0:
        return w_lon, w_lat
    for _ in range(MAX_ITERATIONS):
        f_lon, f_lat = forward(w_lon, w_lat)
        step_lon, step_lat = f_lon - lon, f_lat - lat
        w_lon, w_lat = w_lon - step_lon, w_lat - step_lat
        if max(float(np.max(np.abs(step_lon))), float(np.max(np.abs(step_lat)))) < TOLERANCE_DEG:
            break
    return w_lon, w_lat


def _gcj_to_wgs(lon: Array, lat: Array) -> Pair:
    return _invert(_wgs_to_gcj, lon, lat, (lon, lat))


def _bd_to_gcj(lon: Array, lat: Array) -> Pair:
    return _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_approx(lon, lat))


def _bd_to_wgs(lon: Array, lat: Array) -> Pair:
    return _invert(_wgs_to_bd, lon, lat, _gcj_to_wgs(*_bd_to_gcj_approx(lon, lat)))


def _identity(lon: Array, lat: Array) -> Pair:
    return lon.copy(), lat.copy()


_TO_WGS84: dict[Datum, Callable[[Array, Array], Pair]] = {
    Datum.WGS84: _identity,
    Datum.CGCS2000: _identity,
    Datum.GCJ02: _gcj_to_wgs,
    Datum.BD09: _bd_to_wgs,
}
_FROM_WGS84: dict[Datum, Callable[[Array, Array], Pair]] = {
    Datum.WGS84: _identity,
    Datum.CGCS2000: _identity,
    Datum.GCJ02: _wgs_to_gcj,
    Datum.BD09: _wgs_to_bd,
}


def _scalar(func: Callable[[Array, Array], Pair], lon: float, lat: float) -> tuple[float, float]:
    out_lon, out_lat = func(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
    return float(out_lon[0]), float(out_lat[0])


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → 火星坐标 GCJ-02 by the published formula (unchanged outside China)."""
    return _scalar(_wgs_to_gcj, lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """火星坐标 GCJ-02 → WGS84: the exact inverse of the formula, iterated to a step < 1e-9°."""
    return _scalar(_gcj_to_wgs, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """火星坐标 GCJ-02 → 百度坐标 BD-09 (published formula)."""
    return _scalar(_gcj_to_bd, lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """百度坐标 BD-09 → 火星坐标 GCJ-02: the exact inverse of ``gcj02_to_bd09``."""
    return _scalar(_bd_to_gcj, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → 百度坐标 BD-09 (via GCJ-02)."""
    return _scalar(_wgs_to_bd, lon, lat)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """百度坐标 BD-09 → WGS84: the exact inverse of the composed forward WGS84 → GCJ-02 → BD-09."""
    return _scalar(_bd_to_wgs, lon, lat)


def to_wgs84(lon: float, lat: float, datum: Datum) -> tuple[float, float]:
    """One lon/lat in ``datum`` (坐标系) → WGS84 lon/lat."""
    return _scalar(_TO_WGS84[datum], lon, lat)


def from_wgs84(lon: float, lat: float, datum: Datum) -> tuple[float, float]:
    """WGS84 lon/lat → ``datum``, e.g. for links that open Gaode (GCJ-02) or Baidu (BD-09) maps."""
    return _scalar(_FROM_WGS84[datum], lon, lat)


def geometry_to_wgs84(geom: BaseGeometry, datum: Datum) -> BaseGeometry:
    """A shapely geometry in ``datum`` → the same geometry in WGS84, 2-D (altitude dropped).

    Vertex count and order are preserved; all vertices are converted in one vectorised pass.
    """
    return _transform(geom, _TO_WGS84[datum])


def geometry_from_wgs84(geom: BaseGeometry, datum: Datum) -> BaseGeometry:
    """A WGS84 shapely geometry → ``datum`` (for display on GCJ-02/BD-09 base maps; never store it)."""
    return _transform(geom, _FROM_WGS84[datum])


def _transform(geom: BaseGeometry, func: Callable[[Array, Array], Pair]) -> BaseGeometry:
    def apply(coords: Array) -> Array:
        lon, lat = func(np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1]))
        return np.column_stack((lon, lat))

    result: BaseGeometry = shapely.transform(geom, apply, include_z=False)
    return result


# --- metric zones (国家2000 3° 带高斯-克吕格投影) ------------------------------------------------


def metric_srid(lon: float) -> int:
    """EPSG code of the CGCS2000 3° Gauss-Krüger zone (国家2000坐标系 3°带) nearest ``lon``.

    EPSG:4534 is CM 75°E … EPSG:4554 is CM 135°E (e.g. 106.4°E → 4544, CM 105°E; 106.6°E → 4545,
    CM 108°E). A longitude exactly on a zone boundary (x.5 of 3°) goes to the eastern zone, except
    136.5°E, the last. Raises ``ValueError`` outside 73.5–136.5°E (and for NaN).
    """
    if not 73.5 <= lon <= 136.5:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 3-degree zones (73.5-136.5°E)")
    central = min(135, 3 * math.floor(lon / 3.0 + 0.5))
    return 4534 + (central - 75) // 3
