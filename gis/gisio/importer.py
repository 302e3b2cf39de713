"""Importing a file as cases (文件导入): check everything first, then write it all or nothing.

1. the file: size, type by content, archives (gis.gisio.limits); read (readers, tabular);
2. the rows: columns mapped, values and geometry checked, converted to WGS84 (normalize);
3. in PostGIS: staged by COPY, placed, located in grids, checked against the importer's areas and
   what already exists (stage);
4. only when no problem was found, and not a dry run: one ``import_batch`` row, the cases (codes
   per county and year) and their events (``report`` with the batch id, and the ledger's state).

Importing the same rows again creates nothing: each row has an external id (its ID column or a
digest of its content) and rows already present are counted as unchanged.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Connection, select

from gis import tables as t
from gis.access import Principal
from gis.gisio import stage
from gis.gisio.geometry import SourceCrs, parse_source_crs
from gis.gisio.limits import check_file
from gis.gisio.normalize import ImportOptions, Normal, normalise
from gis.gisio.readers import SourceTable, cleanup, read_vector
from gis.gisio.report import BadFile, ImportRejected, ImportReport, Progress, no_progress
from gis.gisio.tabular import read_csv, read_xlsx
from gis.gisio.values import CategoryInfo
from gis.gisio.write import IMPORT_BATCH, write_batch

IMPORT_ROLES = ("inspector", "admin")
DROP_TEMP = "DROP TABLE IF EXISTS import_row, import_place, import_village, import_grid, import_existing, import_new"


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (kept with the batch)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_categories(conn: Connection) -> list[CategoryInfo]:
    """The problem categories, as imports read them."""
    c = t.category
    rows = conn.execute(select(c).where(c.c.kind == "problem").order_by(c.c.sort_order))
    return [
        CategoryInfo(
            r.code,
            r.label_zh,
            r.label_en,
            tuple(_aliases(r.aliases_zh)),
            tuple(r.subtypes),
            tuple(r.geometry_types),
            dict(r.attributes),
        )
        for r in rows
    ]


def _aliases(text: str | None) -> list[str]:
    import re

    return [a for a in re.split(r"[、，,；;\s]+", text or "") if a and "“" not in a]


def read_table(path: Path, filename: str, workdir: Path, report: ImportReport) -> SourceTable:
    """Check and read any accepted format."""
    checked = check_file(path, filename)
    report.format = checked.format
    if checked.format == "csv":
        table = read_csv(path, filename)
    elif checked.format == "xlsx":
        table = read_xlsx(path, filename)
    else:
        table = read_vector(checked, workdir, filename)
    report.encoding, report.layers = table.encoding, table.layers
    for _kind, note in table.notes[:20]:
        report.warn(None, None, "reader_note", f"读取提示：{note}", f"Reader note: {note}")
    return table


def _source_crs(table: SourceTable, options: ImportOptions, report: ImportReport) -> SourceCrs:
    found = parse_source_crs(table.crs, declared=False) if table.crs else None
    used = (
        parse_source_crs(options.crs, declared=True) if options.crs else found or parse_source_crs(None, declared=False)
    )
    report.crs = {"file": found.label if found else None, "declared": options.crs, "used": used.label}
    if found and options.crs and found.label != used.label:
        report.warn(
            None,
            None,
            "crs_override",
            f"文件声明的坐标系为 {found.label}，按参数 crs 使用 {used.label}。",
            f"The file says {found.label}; {used.label} is used as declared.",
        )
    return used


def _clean_rows(normal: Normal, report: ImportReport) -> Normal:
    """Rows without errors and without earlier identical duplicates, for staging."""
    bad = {i.row for i in report.errors} | {i.row for i in report.warnings if i.code == "duplicate_row"}
    keep = ~np.isin(normal.columns["row"], [r for r in bad if r is not None])
    columns = {
        k: (v[keep] if not hasattr(v, "iloc") else v[keep].reset_index(drop=True)) for k, v in normal.columns.items()
    }
    return Normal(int(keep.sum()), columns)


def _write(
    cur: psycopg.Cursor[Any], report: ImportReport, p: Principal, existing: int, bulk: bool | None, progress: Progress
) -> None:
    params = {
        "filename": report.filename,
        "sha256": report.sha256,
        "format": report.format,
        "crs": report.crs.get("declared"),
        "user_id": p.user_id,
        "rows": report.rows,
        "unchanged": existing,
    }
    batch_id = int(cur.execute(IMPORT_BATCH, params).fetchone()[0])  # type: ignore[index]
    report.batch_id = batch_id
    batch = params | {"batch_id": batch_id, "actor": p.username, "role": p.role}
    report.created = write_batch(cur, batch, report.would_create, bulk, progress)


def import_file(
    conn: Connection,
    path: Path,
    filename: str,
    options: ImportOptions,
    p: Principal,
    *,
    progress: Progress = no_progress,
) -> ImportReport:
    """Check and (unless a dry run) import a file; raises ImportRejected with the report if anything is wrong."""
    p.require(*IMPORT_ROLES)
    report = ImportReport(filename=filename, format="", sha256=sha256_of(path), dry_run=options.dry_run)
    workdir = Path(tempfile.mkdtemp(prefix="vm-import-"))
    try:
        try:
            table = read_table(path, filename, workdir, report)
            progress("read", len(table), len(table))
            source = _source_crs(table, options, report)
        except BadFile as exc:
            report.error(None, None, exc.code, exc.detail_zh, exc.detail_en)
            raise ImportRejected(report) from None
        report.rows = len(table)
        if not len(table):
            report.error(None, None, "empty", "文件里没有数据行。", "The file holds no rows.")
            raise ImportRejected(report)
        normal = _clean_rows(normalise(table, options, load_categories(conn), source, report), report)
        progress("check", report.rows, report.rows)
        _stage_and_write(conn, normal, report, p, options.bulk, progress)
    finally:
        cleanup(workdir)
    return report


def _stage_and_write(
    conn: Connection, normal: Normal, report: ImportReport, p: Principal, bulk: bool | None, progress: Progress
) -> None:
    if any(i.row is None for i in report.errors):
        raise ImportRejected(report)
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute(DROP_TEMP)
    stage.copy_rows(cur, normal, progress)
    existing = stage.locate(cur, report, list(p.areas), progress)
    stage.check_units(cur, report)
    if report.errors:
        raise ImportRejected(report)
    report.unchanged = existing
    report.would_create = normal.n - existing
    if not report.dry_run and report.would_create:
        _write(cur, report, p, existing, bulk, progress)
    cur.execute(DROP_TEMP)
