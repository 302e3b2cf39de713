"""Writing export files chunk by chunk (导出文件): GeoPackage, Shapefile zip, KML, CSV, XLSX.

GeoPackage keeps the full field names and one layer of mixed geometry, times in UTC (as the spec
asks). A Shapefile holds one geometry type, so the zip holds up to three (``cases_point``,
``cases_line``, ``cases_polygon``), each with a UTF-8 ``.cpg`` and a ``.prj``, fields renamed to
≤ 10 ASCII bytes (gis.gisio.fields.SHAPEFILE_NAMES). KML is WGS84 with ``name``/``description``.
CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX use the Chinese headers plus lon/lat of
a point on the geometry and its WKT.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pyogrio  # type: ignore[import-untyped]

import geopandas as gpd
import shapely

from gis.crs import Datum, from_wgs84, geometry_from_wgs84
from gis.gisio.fields import CHINESE_HEADERS, EXPORT_FIELDS, SHAPEFILE_NAMES
from gis.periods import SHANGHAI
from gis.xlsx import HEADER_FILL, add_sheet, new_workbook, setup_print

TIME_FIELDS: Final = ("reported_at", "closed_at")
FORMULA_STARTS: Final = frozenset("=+-@\t\r")
FIELD_NAMES: Final = [full for full, _zh, _short in EXPORT_FIELDS]
_KINDS: Final = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
Chunks = Iterator[list[dict[str, Any]]]


def _frame(records: list[dict[str, Any]], crs: str, *, text_times: bool) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {name: [r[name] for r in records] for name in FIELD_NAMES}
    for name in TIME_FIELDS:
        stamps = pd.to_datetime(pd.Series(data[name], dtype=object), utc=True)
        data[name] = (
            stamps.dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00") if text_times else stamps
        )
    for name in ("deadline", "review_on"):
        data[name] = [d.isoformat() if d else None for d in data[name]]
    data["attributes"] = [r["attributes"] or "{}" for r in records]
    data["overdue"] = [bool(x) for x in data["overdue"]]
    data["location_approximate"] = [bool(x) for x in data["location_approximate"]]
    geometry = shapely.from_wkb(np.array([bytes(r["wkb"]) for r in records], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


def write_gpkg(chunks: Chunks, out: Path, crs: str) -> int:
    """One GeoPackage layer ``cases`` of mixed geometry; returns the count."""
    count = 0
    for records in chunks:
        frame = _frame(records, crs, text_times=False)
        pyogrio.write_dataframe(frame, out, layer="cases", driver="GPKG", geometry_type="Unknown", append=count > 0)
        count += len(records)
    if count == 0:
        _empty(out, "GPKG", crs)
    return count


def _empty(out: Path, driver: str, crs: str) -> None:
    frame = gpd.GeoDataFrame({name: pd.Series(dtype=object) for name in FIELD_NAMES}, geometry=[], crs=crs)
    pyogrio.write_dataframe(frame, out, layer="cases", driver=driver, geometry_type="Unknown")


def write_shapefile_zip(chunks: Chunks, out: Path, crs: str, workdir: Path) -> int:
    """Shapefiles per geometry kind with short field names, .cpg and .prj, zipped; returns the count."""
    count, written = 0, set()
    for records in chunks:
        frame = _frame(records, crs, text_times=True).rename(columns=SHAPEFILE_NAMES)
        kinds = frame.geometry.geom_type.map(_KINDS)
        for kind in sorted(set(kinds)):
            part = frame[kinds == kind]
            target = workdir / f"cases_{kind}.shp"
            pyogrio.write_dataframe(
                part,
                target,
                driver="ESRI Shapefile",
                encoding="UTF-8",
                promote_to_multi=kind != "point",
                append=target.exists(),
            )
            written.add(kind)
        count += len(records)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(workdir.iterdir()):
            if path.stem.startswith("cases_"):
                archive.write(path, path.name)
        if not written:
            archive.writestr("README.txt", "没有符合条件的案件 / no cases matched the filters.\n")
    return count


def write_kml(chunks: Chunks, out: Path) -> int:
    """KML 2.2 (WGS84): placemark name and description, the other fields as extended data."""
    count = 0
    for records in chunks:
        frame = _frame(records, "EPSG:4326", text_times=True)
        frame = frame.rename(columns={"title": "Name", "description": "Description"})
        pyogrio.write_dataframe(frame, out, layer="cases", driver="KML", append=count > 0)
        count += len(records)
    if count == 0:
        out.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
            "<Document><name>cases</name></Document></kml>\n",
            encoding="utf-8",
        )
    return count


def _table_headers(datum: str) -> list[str]:
    xy = ["经度", "纬度"] if datum != "GCJ-02" else ["经度（GCJ-02）", "纬度（GCJ-02）"]
    return [CHINESE_HEADERS[name] for name in FIELD_NAMES] + [*xy, "几何WKT", "坐标系"]


def _table_row(r: dict[str, Any], datum: str) -> list[Any]:
    geom = shapely.from_wkb(bytes(r["wkb"]))
    lon, lat = float(r["lon"]), float(r["lat"])
    if datum == "GCJ-02":
        lon, lat = from_wgs84(lon, lat, Datum.GCJ02)
        geom = cast(Any, geometry_from_wgs84(geom, Datum.GCJ02))
    values = [r[name] for name in FIELD_NAMES]
    for i, name in enumerate(FIELD_NAMES):
        if name in TIME_FIELDS and values[i] is not None:
            values[i] = values[i].astimezone(SHANGHAI).isoformat(timespec="seconds")
        elif name in ("deadline", "review_on") and values[i] is not None:
            values[i] = values[i].isoformat()
        elif isinstance(values[i], bool):
            values[i] = "是" if values[i] else "否"
    return [*values, round(lon, 7), round(lat, 7), shapely.to_wkt(geom, rounding_precision=7), datum]


def defused(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def write_csv(chunks: Chunks, out: Path, datum: str) -> int:
    """CSV in UTF-8 with BOM, Chinese headers, lon/lat and WKT; returns the count."""
    count = 0
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_table_headers(datum))
        for records in chunks:
            writer.writerows([defused(v) for v in _table_row(r, datum)] for r in records)
            count += len(records)
    return count


def write_xlsx(chunks: Chunks, out: Path, datum: str) -> int:
    """A streamed workbook (write-only) with the same columns as the CSV; returns the count."""
    wb = new_workbook(streamed=True)
    sheet = add_sheet(wb, "案件")
    headers = _table_headers(datum)
    widths = dict.fromkeys(range(1, len(headers) + 1), 14.0) | {5: 24.0, 6: 40.0, len(headers) - 1: 40.0}
    sheet.preset(widths, header_row=1)
    setup_print(sheet.ws, 1)
    sheet.row(headers, bold=True, fill=HEADER_FILL)
    count = 0
    for records in chunks:
        for r in records:
            sheet.append(_table_row(r, datum))
        count += len(records)
    wb.save(out)
    return count
