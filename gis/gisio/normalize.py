"""From what a file holds to what a case needs (规范化): mapped columns, checked values, WGS84.

The columns are recognised (gis.gisio.fields) or mapped explicitly; the category comes from the
``category`` option or a column (codes, labels, aliases or a subtype that names one category);
geometry from the file, lon/lat or WKT columns, else the row is placed at its village (by NBS
code, or by name with its township) in SQL later. Identifiers come from an ID column, or are a
digest of the row's content, so the same file imported twice creates nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

import shapely

from gis.gisio.fields import ATTRIBUTE_TARGETS, SYNONYMS, match_columns
from gis.gisio.geometry import SourceCrs, check_geometries, from_wkt, points_from_columns, to_wgs84
from gis.gisio.readers import SourceTable
from gis.gisio.report import ImportReport
from gis.gisio.rules import check_rules
from gis.gisio.values import CategoryInfo, read_categories, read_statuses, read_times, text_column

ObjectArray = NDArray[np.object_]
TEXT_LIMITS = {"title": 200, "description": 4000, "progress": 2000}


@dataclass
class ImportOptions:
    """How to read a file: declared CRS, one category for all rows, explicit column mapping.

    ``bulk``: write in bulk mode (gis.gisio.bulkmode) — None decides by the batch's size.
    """

    crs: str | None = None
    category: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    bulk: bool | None = None


@dataclass
class Normal:
    """Rows ready for staging: one array per target column (规范化结果)."""

    n: int
    columns: dict[str, Any]


def _mapping(table: SourceTable, options: ImportOptions, report: ImportReport) -> dict[str, str]:
    bad = {s: t for s, t in options.mapping.items() if s not in table.columns or t not in SYNONYMS}
    for source, target in bad.items():
        report.error(
            None,
            source,
            "bad_mapping",
            f"映射“{source}={target}”无效：文件没有该列或目标未知（可用：{'、'.join(SYNONYMS)}）。",
            f"Mapping '{source}={target}' is invalid: no such column or unknown target.",
        )
    mapping, unknown = match_columns(table.columns, {s: t for s, t in options.mapping.items() if s not in bad})
    report.mapping = mapping
    report.ignored_columns = unknown
    for column in unknown:
        report.warn(
            None,
            column,
            "ignored_column",
            f"未识别的列“{column}”，已忽略。",
            f"Column '{column}' is not recognised; ignored.",
        )
    return {target: source for source, target in mapping.items()}


def _column(table: SourceTable, by_target: dict[str, str], target: str) -> ObjectArray | None:
    source = by_target.get(target)
    return table.values[source] if source is not None else None


def _categories(
    table: SourceTable,
    by_target: dict[str, str],
    options: ImportOptions,
    cats: list[CategoryInfo],
    report: ImportReport,
) -> tuple[ObjectArray, ObjectArray]:
    n = len(table)
    if options.category:
        codes, subs = read_categories(np.full(n, options.category, dtype=object), table.rows, "category", cats, report)
        return codes, subs
    column = _column(table, by_target, "category")
    if column is None and "subtype" in by_target:
        return read_categories(table.values[by_target["subtype"]], table.rows, by_target["subtype"], cats, report)
    if column is None:
        report.error(
            None,
            None,
            "missing_columns",
            "缺少“问题类型”列；请加上该列，或在导入时指定类别（category）。",
            "No category column; add one (问题类型) or give the category for the whole file.",
        )
        return np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    return read_categories(column, table.rows, by_target["category"], cats, report)


def _subtypes(
    table: SourceTable,
    by_target: dict[str, str],
    codes: ObjectArray,
    implied: ObjectArray,
    cats: dict[str, CategoryInfo],
    report: ImportReport,
) -> ObjectArray:
    given = text_column(_column(table, by_target, "subtype"), len(table))
    out = np.where(given == None, implied, given)  # noqa: E711 (element-wise)
    for code, info in cats.items():
        wrong = (codes == code) & (out != None) & ~np.isin(out, list(info.subtypes))  # noqa: E711
        for i in np.flatnonzero(wrong):
            report.error(
                int(table.rows[i]),
                by_target.get("subtype", "subtype"),
                "unknown_subtype",
                f"“{out[i]}”不是{info.label_zh}的子类（可选：{'、'.join(info.subtypes)}）。",
                f"'{out[i]}' is not a subtype of {info.code} ({', '.join(info.subtypes)}).",
            )
    return out


def _geometry(table: SourceTable, by_target: dict[str, str], source: SourceCrs, report: ImportReport) -> ObjectArray:
    geoms = table.geometry
    if geoms is None or shapely.is_missing(geoms).all():
        lon, lat, wkt = (_column(table, by_target, k) for k in ("lon", "lat", "wkt"))
        geoms = np.full(len(table), None, dtype=object)
        if wkt is not None:
            geoms = from_wkt(wkt, table.rows, report, by_target["wkt"])
        if lon is not None and lat is not None:
            points = points_from_columns(lon, lat, table.rows, report, (by_target["lon"], by_target["lat"]))
            geoms = np.where(shapely.is_missing(geoms), points, geoms)
        elif (lon is None) != (lat is None):
            report.error(
                None,
                None,
                "missing_columns",
                "经度、纬度两列须同时存在。",
                "Give both a longitude and a latitude column.",
            )
    return to_wgs84(geoms, source)


def _placement(table: SourceTable, by_target: dict[str, str], geoms: ObjectArray, report: ImportReport) -> None:
    missing = shapely.is_missing(geoms)
    if not missing.any():
        return
    if not ({"village_code", "village_name"} & set(by_target)):
        for row in table.rows[missing]:
            report.error(
                int(row),
                None,
                "no_location",
                "没有坐标，也没有可用于定位的村名或村代码。",
                "No coordinates and no village name or code to place the row at.",
            )


def _ids(table: SourceTable, by_target: dict[str, str], cols: dict[str, Any], report: ImportReport) -> ObjectArray:
    given = text_column(_column(table, by_target, "external_id"), len(table), 200)
    wkb = cols["wkb"]
    out = given.copy()
    for missing in np.flatnonzero(given == None):  # noqa: E711 (element-wise)
        i = int(missing)
        content = [cols[k][i] for k in ("category", "subtype", "description", "village_code", "village_name")]
        stamp = cols["reported_at"].iloc[i]
        digest = hashlib.sha1(
            json.dumps([content, wkb[i].hex() if wkb[i] else None, str(stamp)], ensure_ascii=False).encode()
        ).hexdigest()
        out[i] = f"sha1:{digest}"
    for i, first in _repeats(out):
        if given[i] is None:
            report.warn(
                int(table.rows[i]),
                None,
                "duplicate_row",
                f"与第 {table.rows[first]} 行完全相同，只导入一次。",
                f"Identical to row {table.rows[first]}; imported once.",
            )
        else:
            report.error(
                int(table.rows[i]),
                by_target.get("external_id"),
                "duplicate_id",
                f"编号“{out[i]}”与第 {table.rows[first]} 行重复。",
                f"ID '{out[i]}' repeats row {table.rows[first]}.",
            )
    return out


def _repeats(ids: ObjectArray) -> list[tuple[int, int]]:
    """(index, index of its first occurrence) of every id seen before (重复编号), in row order."""
    codes, _uniques = pd.factorize(pd.Series(ids, dtype=object))
    _, first = np.unique(codes, return_index=True)
    firsts = first[codes]
    return [(int(i), int(firsts[i])) for i in np.flatnonzero(firsts != np.arange(len(ids)))]


def _attributes(table: SourceTable, by_target: dict[str, str], report: ImportReport) -> ObjectArray:
    n = len(table)
    out = np.full(n, "{}", dtype=object)
    raw = _column(table, by_target, "attributes")
    extra = {t: _column(table, by_target, t) for t in ATTRIBUTE_TARGETS if t in by_target}
    if raw is None and not extra:
        return out
    for i in range(n):
        attrs: dict[str, Any] = {}
        if raw is not None and raw[i] not in (None, ""):
            try:
                attrs = dict(json.loads(str(raw[i])))
            except (ValueError, TypeError):
                report.error(
                    int(table.rows[i]),
                    by_target["attributes"],
                    "bad_attributes",
                    "附加属性须为 JSON 对象。",
                    "attributes must be a JSON object.",
                )
        for key, column in extra.items():
            if column is not None and column[i] not in (None, ""):
                attrs[key] = (
                    column[i] if key != "occupied" else str(column[i]).strip() in ("是", "true", "True", "1", "yes")
                )
        out[i] = json.dumps(attrs, ensure_ascii=False)
    return out


def normalise(
    table: SourceTable, options: ImportOptions, categories: list[CategoryInfo], source: SourceCrs, report: ImportReport
) -> Normal:
    """Every row's target values, checked column by column; problems go to the report."""
    n, by_target = len(table), _mapping(table, options, report)
    by_code = {c.code: c for c in categories}
    codes, implied = _categories(table, by_target, options, categories, report)
    geoms = check_geometries(
        _geometry(table, by_target, source, report),
        table.rows,
        codes,
        {c.code: c.geometry_types for c in categories},
        report,
    )
    _placement(table, by_target, geoms, report)
    cols: dict[str, Any] = {"row": table.rows, "category": codes}
    cols["subtype"] = _subtypes(table, by_target, codes, implied, by_code, report)
    for key in (
        "title",
        "description",
        "progress",
        "village_code",
        "village_name",
        "township_name",
        "lead_unit",
        "responsible_units",
        "inspector",
    ):
        cols[key] = text_column(_column(table, by_target, key), n, TEXT_LIMITS.get(key))
    cols["status"] = read_statuses(_column(table, by_target, "status"), table.rows, by_target.get("status", ""), report)
    for key in ("reported_at", "deadline", "closed_at", "review_on"):
        cols[key] = read_times(_column(table, by_target, key), table.rows, by_target.get(key, key), report)
    present = ~shapely.is_missing(geoms)
    cols["wkb"] = np.full(n, None, dtype=object)
    cols["wkb"][present] = shapely.to_wkb(geoms[present], include_srid=False)
    cols["attributes"] = _attributes(table, by_target, report)
    cols["external_id"] = _ids(table, by_target, cols, report)
    check_rules(cols, report)
    return Normal(n, cols)
