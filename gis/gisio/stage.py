"""Staging an import in PostGIS (导入暂存与空间校验): COPY, place, locate, check scope and units.

Rows are copied (binary COPY) into temporary tables; PostGIS then places rows without coordinates
at their village (flagged approximate) and finds each geometry's grid: one join of the grids (the
outer side, so each grid polygon is prepared once) against an index on the staged geometries, the
smaller code on a border as ``vm_grid_for`` does for points; lines and polygons then by
``vm_grid_for`` itself. It reports rows outside every grid (with the distance to the nearest),
outside the importer's areas, or already imported (by external id, or as this database's own case:
same code, category and place). Nothing outside the temporary tables is written here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from gis.gisio.normalize import Normal
from gis.gisio.report import MAX_LISTED, ImportReport, Progress
from gis.gisio.rules import epoch_us, local_days, report_years

NAT = np.iinfo(np.int64).min
STAGE_COLUMNS = (
    ("rn", "int4"),
    ("external_id", "text"),
    ("category", "text"),
    ("subtype", "text"),
    ("title", "text"),
    ("description", "text"),
    ("progress", "text"),
    ("village_code", "text"),
    ("village_name", "text"),
    ("township_name", "text"),
    ("lead_unit", "text"),
    ("responsible_units", "text"),
    ("inspector", "text"),
    ("status", "text"),
    ("attributes", "text"),
    ("reported_us", "int8"),
    ("report_year", "int4"),
    ("closed_us", "int8"),
    ("deadline_days", "int4"),
    ("review_days", "int4"),
    ("wkb", "bytea"),
)
STAGING = """
CREATE TEMP TABLE import_row (
  rn int4 PRIMARY KEY, external_id text, category text, subtype text, title text, description text, progress text,
  village_code text, village_name text, township_name text, lead_unit text, responsible_units text,
  inspector text, status text, attributes text, reported_us int8, report_year int4, closed_us int8, deadline_days int4,
  review_days int4, wkb bytea
) ON COMMIT DROP
"""
CHUNK = 50_000


def _nullable(values: np.ndarray[Any, Any]) -> list[Any] | None:
    """Times as COPY sends them (NaT → NULL); None when the whole column is empty."""
    missing = values == NAT
    if missing.all():
        return None
    out: list[Any] = values.tolist()
    return [None if m else v for v, m in zip(out, missing.tolist(), strict=True)] if missing.any() else out


def _texts(values: Any) -> list[Any] | None:
    """A text column as COPY sends it; None when no row has a value (the column is then not sent)."""
    array = np.asarray(values, dtype=object)
    if (array == None).all():  # noqa: E711 (element-wise)
        return None
    out: list[Any] = array.tolist()
    return out


def _columns(normal: Normal) -> list[tuple[str, str, list[Any]]]:
    """(name, type, values) of every staged column that holds something in some row."""
    c = normal.columns
    times = {
        "reported_us": epoch_us(c["reported_at"]),
        "report_year": report_years(c["reported_at"]),
        "closed_us": epoch_us(c["closed_at"]),
        "deadline_days": local_days(c["deadline"]),
        "review_days": local_days(c["review_on"]),
    }
    out = []
    for name, kind in STAGE_COLUMNS:
        values = c["row"].tolist() if name == "rn" else _nullable(times[name]) if name in times else _texts(c[name])
        if values is not None:
            out.append((name, kind, values))
    return out


def copy_rows(cur: psycopg.Cursor[Any], normal: Normal, progress: Progress) -> None:
    """Binary COPY of the normalised rows into ``import_row`` (columns empty in every row are not sent)."""
    cur.execute(STAGING)
    sent = _columns(normal)
    names = sql.SQL(", ").join(sql.Identifier(name) for name, _, _ in sent)
    columns = [values for _, _, values in sent]
    with cur.copy(sql.SQL("COPY import_row ({}) FROM STDIN (FORMAT BINARY)").format(names)) as copy:
        copy.set_types([kind for _, kind, _ in sent])
        for start in range(0, normal.n, CHUNK):
            for row in zip(*(col[start : start + CHUNK] for col in columns), strict=True):
                copy.write_row(row)
            progress("copy", min(start + CHUNK, normal.n), normal.n)


PLACE = """
CREATE TEMP TABLE import_place ON COMMIT DROP AS
SELECT r.rn, ST_GeomFromWKB(r.wkb, 4326) AS geom, false AS approx FROM import_row r;
CREATE TEMP TABLE import_village ON COMMIT DROP AS
SELECT r.rn, array_agg(v.code ORDER BY v.code) AS codes,
       array_agg(coalesce(t.name, '') || v.name || '（' || v.code || '）' ORDER BY v.code) AS names
FROM import_row r
JOIN region v ON v.level = 'village'
 AND (v.code = r.village_code OR (r.village_code IS NULL AND v.name = r.village_name))
LEFT JOIN region t ON t.code = v.parent_code
WHERE r.wkb IS NULL AND (r.village_code IS NOT NULL OR r.township_name IS NULL OR t.name = r.township_name
                         OR t.official_name = r.township_name)
GROUP BY r.rn;
UPDATE import_place p SET geom = coalesce(v.seat, ST_PointOnSurface(v.geom)), approx = true
FROM import_village iv JOIN region v ON v.code = iv.codes[1]
WHERE p.rn = iv.rn AND p.geom IS NULL AND cardinality(iv.codes) = 1;
CREATE INDEX ON import_place USING gist (geom);
ANALYZE import_place;
"""
UNPLACED = """
SELECT r.rn, r.village_code, r.village_name, r.township_name, iv.names FROM import_row r
LEFT JOIN import_village iv ON iv.rn = r.rn
WHERE r.wkb IS NULL AND (iv.rn IS NULL OR cardinality(iv.codes) > 1)
ORDER BY r.rn LIMIT %(limit)s
"""
LOCATE = """
CREATE TEMP TABLE import_grid ON COMMIT DROP AS
SELECT p.rn, min(g.code COLLATE "C") AS grid
FROM region g JOIN import_place p ON ST_Intersects(g.geom, p.geom)
WHERE g.level = 'grid'
GROUP BY p.rn;
CREATE UNIQUE INDEX ON import_grid (rn);
UPDATE import_grid ig SET grid = vm_grid_for(p.geom) FROM import_place p
WHERE p.rn = ig.rn AND GeometryType(p.geom) <> 'POINT';
"""
OUTSIDE = """
SELECT p.rn, (SELECT round(min(ST_Distance(g.geom::geography, p.geom::geography))) FROM (
    SELECT geom FROM region WHERE level = 'grid' ORDER BY geom <-> p.geom LIMIT 5) g) AS metres
FROM import_place p LEFT JOIN import_grid ig ON ig.rn = p.rn
WHERE p.geom IS NOT NULL AND ig.grid IS NULL ORDER BY p.rn LIMIT %(limit)s
"""
FOREIGN_GRIDS = """
SELECT g.code FROM region g
WHERE g.level = 'grid' AND NOT EXISTS (SELECT 1 FROM unnest(%(areas)s::text[]) a WHERE left(g.code, length(a)) = a)
"""
OUT_OF_SCOPE = """
WITH hit AS MATERIALIZED (
  SELECT ig.rn, ig.grid FROM import_grid ig JOIN unnest(%(grids)s::text[]) f(code) ON f.code = ig.grid
)
SELECT rn, grid FROM hit ORDER BY rn LIMIT %(limit)s
"""
EXISTING = """
CREATE TEMP TABLE import_existing ON COMMIT DROP AS
SELECT r.rn FROM import_row r JOIN cases c ON c.external_id = r.external_id
UNION
SELECT r.rn FROM import_row r JOIN cases c ON c.code = r.external_id AND c.category = r.category
JOIN import_place p ON p.rn = r.rn
WHERE ST_DWithin(c.geom::geography, p.geom::geography, 1)
"""


def _unplaced(cur: psycopg.Cursor[Any], report: ImportReport) -> None:
    for row, code, name, township, names in cur.execute(UNPLACED, {"limit": MAX_LISTED + 1}).fetchall():
        if names:
            report.error(
                row,
                "村",
                "ambiguous_village",
                f"村名“{name}”有 {len(names)} 个：{'、'.join(names)}；请填写乡镇或村代码。",
                f"The village name '{name}' matches {len(names)} villages: {', '.join(names)}; "
                "add the township or the village code.",
            )
        elif code:
            report.error(row, "村代码", "unknown_village", f"村代码“{code}”不存在。", f"There is no village {code}.")
        else:
            where = f"{township or ''}{name or ''}" or "（空）"
            report.error(
                row,
                "村",
                "unknown_village",
                f"找不到村“{where}”；请检查村名与乡镇，或填写坐标。",
                f"No village '{where}'; check the village and township names, or give coordinates.",
            )


def _some_unlocated(cur: psycopg.Cursor[Any]) -> bool:
    """Whether any placed row found no grid (two counts: cheaper than the join that lists them)."""
    placed = cur.execute("SELECT count(*) FROM import_place WHERE geom IS NOT NULL").fetchone()
    located = cur.execute("SELECT count(*) FROM import_grid").fetchone()
    return placed != located


def locate(cur: psycopg.Cursor[Any], report: ImportReport, areas: list[str], progress: Progress) -> int:
    """Place, locate and check the staged rows; returns how many already exist (unchanged)."""
    cur.execute(PLACE)
    _unplaced(cur, report)
    progress("locate", 0, 1)
    cur.execute(LOCATE)
    progress("locate", 1, 1)
    outside = cur.execute(OUTSIDE, {"limit": MAX_LISTED + 1}).fetchall() if _some_unlocated(cur) else []
    for row, metres in outside:
        report.error(
            row,
            "geometry",
            "outside_counties",
            f"位置不在已载入区县的任何网格内，距最近的网格 {metres:.0f} 米；请检查坐标和坐标系。",
            f"The location lies in no grid of the loaded counties; the nearest is {metres:.0f} m away. "
            "Check the coordinates and the CRS.",
        )
    foreign = [code for (code,) in cur.execute(FOREIGN_GRIDS, {"areas": areas}).fetchall()]
    hits = cur.execute(OUT_OF_SCOPE, {"grids": foreign, "limit": MAX_LISTED + 1}).fetchall() if foreign else []
    for row, grid in hits:
        report.error(
            row,
            "geometry",
            "out_of_scope",
            f"位置属于网格 {grid}，不在您负责的区域内。",
            f"The location lies in grid {grid}, outside your areas.",
        )
    cur.execute("SELECT count(*) FROM import_place WHERE approx")
    report.approximate = int(cur.fetchone()[0])  # type: ignore[index]
    cur.execute(EXISTING)
    return int(cur.execute("SELECT count(*) FROM import_existing").fetchone()[0])  # type: ignore[index]


UNKNOWN_UNITS = """
WITH named AS (
  SELECT r.rn, 'lead_unit' AS col, r.lead_unit AS name FROM import_row r WHERE r.lead_unit IS NOT NULL
  UNION ALL
  SELECT r.rn, 'responsible_units', trim(x) FROM import_row r,
         regexp_split_to_table(r.responsible_units, '[、,，;；]') x
  WHERE r.responsible_units IS NOT NULL AND trim(x) <> ''
)
SELECT n.name, min(n.rn), n.col FROM named n
WHERE NOT EXISTS (SELECT 1 FROM unit u WHERE u.name = n.name OR u.code = n.name)
GROUP BY n.name, n.col ORDER BY 2 LIMIT 100
"""


def check_units(cur: psycopg.Cursor[Any], report: ImportReport) -> None:
    """Unit names that match no unit are kept as text on the case (a warning, not an error)."""
    for name, row, column in cur.execute(UNKNOWN_UNITS).fetchall():
        label = "牵头单位" if column == "lead_unit" else "责任单位"
        report.warn(
            row,
            label,
            "unknown_unit",
            f"未登记的单位“{name}”，以文字保存在案件属性中。",
            f"The unit '{name}' is not registered; it is kept as text on the case.",
        )
