"""One entry point for exports (导出): check the role and CRS, pick the writer, return the file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Connection

from gis.access import Principal
from gis.gisio.export import EXPORT_ROLES, MEDIA_TYPES, ExportQuery, output_crs, record_rows, write_geojson
from gis.gisio.writers import write_csv, write_gpkg, write_kml, write_shapefile_zip, write_xlsx


def export_cases(conn: Connection, p: Principal, fmt: str, q: ExportQuery, workdir: Path) -> tuple[Path, int]:
    """Write the cases ``p`` may see that match ``q`` as ``fmt`` into ``workdir``; returns (file, count)."""
    p.require(*EXPORT_ROLES)
    if fmt not in MEDIA_TYPES:
        raise ValueError(fmt)
    q = replace(q, crs=output_crs(fmt, q.crs))
    out = workdir / f"cases.{fmt}"
    if fmt == "geojson":
        return out, write_geojson(conn, p, q, out)
    rows = record_rows(conn, p, q)
    if fmt == "gpkg":
        return out, write_gpkg(rows, out, q.crs)
    if fmt == "shp.zip":
        parts = workdir / "shp"
        parts.mkdir()
        return out, write_shapefile_zip(rows, out, q.crs, parts)
    if fmt == "kml":
        return out, write_kml(rows, out)
    if fmt == "csv":
        return out, write_csv(rows, out, q.crs)
    return out, write_xlsx(rows, out, q.crs)
