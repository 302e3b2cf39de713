"""Geometry of imported rows (导入几何): from the file or from lon/lat or WKT columns, to WGS84.

The CRS is the declared one (``crs``) or else the file's (.prj, GeoPackage, KML is WGS84); tables
without one are WGS84. Accepted: WGS84 (EPSG:4326), CGCS2000 (EPSG:4490, taken as WGS84 as PROJ
does), GCJ-02 and BD-09 (converted by inverting the published formulas, gis.crs), and any CRS
PROJ knows, notably the projected CGCS2000 Gauss-Krüger zones (EPSG:4491–4554), transformed by
PROJ. Every step is vectorised over all rows; problems are reported per row, nothing repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gis.crs import Datum, geometry_to_wgs84
from gis.gisio.report import BadFile, ImportReport

ObjectArray = NDArray[np.object_]
_DATUMS = {"gcj-02": Datum.GCJ02, "gcj02": Datum.GCJ02, "bd-09": Datum.BD09, "bd09": Datum.BD09, "bd09ll": Datum.BD09}
_ZH_TYPES = {
    "Point": "点",
    "LineString": "线",
    "Polygon": "面",
    "MultiPoint": "多点",
    "MultiLineString": "多线",
    "MultiPolygon": "多面",
    "GeometryCollection": "几何集合",
}


@dataclass(frozen=True)
class SourceCrs:
    """The CRS the coordinates are in: a formula datum (GCJ-02, BD-09) or a PROJ CRS."""

    label: str
    datum: Datum | None = None
    proj: CRS | None = None

    @property
    def geographic(self) -> bool:
        """True for lon/lat in degrees."""
        return self.proj is None or bool(self.proj.is_geographic)


def parse_source_crs(value: str | None, *, declared: bool) -> SourceCrs:
    """A CRS named by the user or found in a file; unknown names raise BadFile (or InvalidParameter)."""
    if value is None or not str(value).strip():
        return SourceCrs("EPSG:4326", Datum.WGS84)
    text = str(value).strip()
    if text.lower() in _DATUMS:
        datum = _DATUMS[text.lower()]
        return SourceCrs(datum.value, datum)
    try:
        crs = CRS.from_user_input(text.upper() if text.lower().startswith("epsg") else text)
    except CRSError:
        where = "参数 crs" if declared else "文件中的坐标系"
        raise BadFile(
            "unknown_crs",
            f"{where}“{text[:80]}”无法识别。可用：EPSG:4326、EPSG:4490、GCJ-02、BD-09、"
            "国家2000 高斯投影带（如 EPSG:4545）。",
            f"The CRS '{text[:80]}' is not recognised. Accepted: "
            "EPSG:4326, EPSG:4490, GCJ-02, BD-09, CGCS2000 Gauss-Krüger zones (e.g. EPSG:4545).",
        ) from None
    epsg = crs.to_epsg(min_confidence=70)
    if epsg in (4326, 4490):
        return SourceCrs(f"EPSG:{epsg}", Datum.WGS84 if epsg == 4326 else Datum.CGCS2000)
    return SourceCrs(f"EPSG:{epsg}" if epsg else crs.name, None, crs)


def points_from_columns(
    lon: ObjectArray, lat: ObjectArray, rows: NDArray[np.int64], report: ImportReport, names: tuple[str, str]
) -> ObjectArray:
    """Point geometries from lon/lat columns; rows with neither stay None, half-filled ones are errors."""
    x, y = _numbers(lon, rows, report, names[0]), _numbers(lat, rows, report, names[1])
    half = np.isnan(x) != np.isnan(y)
    for row in rows[half]:
        report.error(
            int(row),
            f"{names[0]}/{names[1]}",
            "half_coordinates",
            "经度、纬度须同时填写。",
            "Give both longitude and latitude.",
        )
    both = ~np.isnan(x) & ~np.isnan(y)
    out = np.full(len(rows), None, dtype=object)
    out[both] = shapely.points(x[both], y[both])
    return out


def _numbers(values: ObjectArray, rows: NDArray[np.int64], report: ImportReport, column: str) -> NDArray[np.float64]:
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        try:
            out[i] = float(str(value).replace("°", "").strip()) if not isinstance(value, int | float) else float(value)
        except ValueError:
            report.error(int(rows[i]), column, "not_number", f"“{value}”不是数字。", f"'{value}' is not a number.")
    bad = ~np.isfinite(out) & ~np.isnan(out)
    for row in rows[bad]:
        report.error(int(row), column, "not_number", "坐标不能是无穷大。", "A coordinate cannot be infinite.")
    out[bad] = np.nan
    return out


def from_wkt(values: ObjectArray, rows: NDArray[np.int64], report: ImportReport, column: str) -> ObjectArray:
    """Geometries from a WKT column; unreadable text is an error."""
    present = np.array([v is not None for v in values], dtype=bool)
    out = np.full(len(values), None, dtype=object)
    parsed = shapely.from_wkt(np.asarray(values[present], dtype=object).astype(str), on_invalid="ignore")
    out[present] = parsed
    for row in rows[present][shapely.is_missing(parsed)]:
        report.error(int(row), column, "bad_wkt", "WKT 几何无法解析。", "The WKT geometry cannot be parsed.")
    return out


def to_wgs84(geoms: ObjectArray, source: SourceCrs) -> ObjectArray:
    """All geometries into WGS84 lon/lat (2-D)."""
    present = ~shapely.is_missing(geoms)
    out = geoms.copy()
    if not present.any() or source.datum in (Datum.WGS84, Datum.CGCS2000):
        return out
    if source.datum is not None:
        out[present] = cast(Any, geometry_to_wgs84)(geoms[present], source.datum)
        return out
    assert source.proj is not None
    transformer = Transformer.from_crs(source.proj, CRS.from_epsg(4490), always_xy=True)

    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    out[present] = shapely.transform(geoms[present], apply)
    return out


_VALIDITY_ZH = {
    "Ring Self-intersection": "环在一点上接触自身",
    "Self-intersection": "边自相交",
    "Too few points": "点数太少",
    "Hole lies outside shell": "内环在外环之外",
    "Nested shells": "多个面相互嵌套",
    "Interior is disconnected": "面内部不连通",
}
_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}


def check_geometries(
    geoms: ObjectArray,
    rows: NDArray[np.int64],
    categories: ObjectArray,
    allowed: dict[str, tuple[str, ...]],
    report: ImportReport,
) -> ObjectArray:
    """Single-part multis made single; wrong types, invalid, empty or out-of-range geometry reported."""
    geoms = _single_parts(geoms)
    present = ~shapely.is_missing(geoms)
    empty = present & shapely.is_empty(_masked(geoms, present))
    geoms[empty] = None
    present &= ~empty
    type_ids = shapely.get_type_id(_masked(geoms, present))
    for code, kinds in allowed.items():
        wrong = present & (categories == code) & ~np.isin(type_ids, [_TYPE_IDS[k] for k in kinds])
        present &= ~wrong
        for i in np.flatnonzero(wrong):
            gtype = geoms[i].geom_type
            report.error(
                int(rows[i]),
                "geometry",
                "geometry_type",
                f"该类别不接受{_ZH_TYPES.get(gtype, gtype)}几何（可用：{'、'.join(_ZH_TYPES[k] for k in kinds)}）。",
                f"This category does not take a {gtype} (allowed: {', '.join(kinds)}).",
            )
    present &= ~_check_range(geoms, present, rows, report)
    valid = shapely.is_valid(_masked(geoms, present))
    for i in np.flatnonzero(present & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        zh = next((v for k, v in _VALIDITY_ZH.items() if reason.startswith(k)), reason)
        report.error(
            int(rows[i]),
            "geometry",
            "invalid_geometry",
            f"几何无效：{zh}（{reason}）；请在 GIS 软件中修正（不会自动修复）。",
            f"Invalid geometry: {reason}; fix it in your GIS (it is not repaired).",
        )
    return geoms


def _masked(geoms: ObjectArray, keep: NDArray[np.bool_]) -> ObjectArray:
    """The geometries where ``keep`` holds, None elsewhere."""
    out = np.full(len(geoms), None, dtype=object)
    out[keep] = geoms[keep]
    return out


def _single_parts(geoms: ObjectArray) -> ObjectArray:
    out = geoms.copy()
    present = ~shapely.is_missing(out)
    multi = present & np.isin(shapely.get_type_id(_masked(out, present)), [4, 5, 6])
    single = multi & (shapely.get_num_geometries(_masked(out, multi)) == 1)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _check_range(
    geoms: ObjectArray, present: NDArray[np.bool_], rows: NDArray[np.int64], report: ImportReport
) -> NDArray[np.bool_]:
    bounds = shapely.bounds(_masked(geoms, present))
    with np.errstate(invalid="ignore"):
        bad_lon = (np.abs(bounds[:, 0]) > 180) | (np.abs(bounds[:, 2]) > 180)
        bad_lat = (np.abs(bounds[:, 1]) > 90) | (np.abs(bounds[:, 3]) > 90)
    bad = present & (bad_lon | bad_lat)
    for i in np.flatnonzero(bad):
        x, y = bounds[i, 0], bounds[i, 1]
        if abs(x) <= 90 < abs(y) <= 180:
            zh, en = (
                f"经纬度疑似颠倒（{x:.4f}, {y:.4f}）：经度在前、纬度在后。",
                f"Longitude and latitude look swapped ({x:.4f}, {y:.4f}).",
            )
        else:
            zh = f"坐标 ({x:.1f}, {y:.1f}) 不是经纬度；若为投影坐标，请声明 crs（如 EPSG:4545）。"
            en = f"({x:.1f}, {y:.1f}) is not lon/lat; for projected metres declare crs (e.g. EPSG:4545)."
        report.error(int(rows[i]), "geometry", "out_of_range", zh, en)
    return bad
