"""Office commands of ``villagemap`` (内业命令): bulletin, import and export.

``villagemap bulletin --area 640221202 --month 2022-01`` writes the bulletin as HTML, XLSX and PDF;
``villagemap import FILE [--dry-run] [--crs …] [--category …]`` checks and imports a file with a
progress bar and prints the report; ``villagemap export FORMAT -o FILE`` writes cases or the ledger.
Commands act for a named account (``--user``), by default the first active administrator.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection

from api.routes.office import bulletin_html
from gis.access import Principal
from gis.bulletin import monthly_bulletin
from gis.bulletin_pdf import bulletin_pdf
from gis.db import make_engine, transaction, without_statement_timeout
from gis.errors import DomainError
from gis.filters import parse_codes
from gis.gisio.export import MEDIA_TYPES, ExportQuery
from gis.gisio.exporter import export_cases
from gis.gisio.fields import parse_mapping
from gis.gisio.importer import import_file
from gis.gisio.normalize import ImportOptions
from gis.gisio.report import ImportRejected
from gis.ledger import ledger_title, ledger_xlsx
from gis.office_xlsx import bulletin_xlsx
from gis.periods import month_period
from gis.photos import PhotoStore
from gis.settings import Settings
from gis.users import operator_principal

STAGES = {
    "read": "读取 read",
    "check": "校验 check",
    "copy": "暂存 stage",
    "locate": "定位 locate",
    "insert": "写入 write",
}


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _principal(conn: Connection, user: str | None) -> Principal:
    """The named account, or else the first active administrator (the operator's own tool)."""
    found = operator_principal(conn, user)
    if found is None:
        _fail(
            f"账号 {user} 不存在或已停用 / no active user {user}"
            if user
            else "没有管理员账号，请用 --user 指定 / no admin: use --user"
        )
    assert found is not None
    return found


def bulletin(
    area: Annotated[str, typer.Option(help="区县或乡镇代码 / county or township code")],
    month: Annotated[str, typer.Option(help="月份 yyyy-mm / month")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出目录 / output folder")] = Path("."),
    formats: Annotated[str, typer.Option("--format", help="html,xlsx,pdf")] = "html,xlsx,pdf",
    user: Annotated[str | None, typer.Option(help="以该账号身份 / as this account")] = None,
) -> None:
    """月度通报 / write a county's or township's monthly bulletin as HTML, XLSX and PDF."""
    engine = make_engine(Settings(), pool_size=1)
    try:
        with transaction(engine) as conn:
            data = monthly_bulletin(conn, area, month_period(month), _principal(conn, user))
    except DomainError as exc:
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
    finally:
        engine.dispose()
    output.mkdir(parents=True, exist_ok=True)
    writers = {"html": lambda d: bulletin_html(d).encode(), "xlsx": bulletin_xlsx, "pdf": bulletin_pdf}
    for fmt in (f.strip() for f in formats.split(",") if f.strip()):
        if fmt not in writers:
            _fail(f"未知格式 / unknown format: {fmt}")
        path = output / f"bulletin-{area}-{month}.{fmt}"
        path.write_bytes(writers[fmt](data))
        typer.echo(f"已生成 / written: {path} ({path.stat().st_size // 1024} KB)")


def _progress_bar() -> tuple[Progress, Any]:
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn()
    )
    tasks: dict[str, Any] = {}

    def step(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    return bar, step


def import_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON, GPKG, SHP zip, KML/KMZ, CSV or XLSX", exists=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查不导入 / check only")] = False,
    crs: Annotated[str | None, typer.Option(help="坐标系 / CRS: EPSG:4326, EPSG:4490, GCJ-02, EPSG:4545 …")] = None,
    category: Annotated[str | None, typer.Option(help="全部行的类别 / category of every row")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="字段映射 源字段=目标 / column=target")] = None,
    user: Annotated[str | None, typer.Option(help="以该账号身份（核查员或管理员）/ as this account")] = None,
) -> None:
    """导入文件为案件 / check a file and import it as cases (all or nothing); prints the report."""
    options = ImportOptions(crs=crs, category=category, mapping=parse_mapping(",".join(mapping or [])), dry_run=dry_run)
    engine = make_engine(Settings(), pool_size=1)
    bar, step = _progress_bar()
    try:
        with bar, transaction(engine) as conn:
            without_statement_timeout(conn)
            report = import_file(conn, file, file.name, options, _principal(conn, user), progress=step)
    except ImportRejected as exc:
        typer.echo(json.dumps(exc.report.as_dict(), ensure_ascii=False, indent=2))
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
        return
    except DomainError as exc:
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
        return
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    verb = "可导入 / would import" if dry_run else "已导入 / imported"
    typer.echo(f"{verb}: {report.would_create if dry_run else report.created}，未变 / unchanged: {report.unchanged}")


def _export(fmt: str, output: Path, q: ExportQuery, user: str | None) -> int:
    """Write the export; returns the case count (-1 for the ledger)."""
    settings = Settings()
    engine = make_engine(settings, pool_size=1)
    workdir = Path(tempfile.mkdtemp(prefix="vm-cli-export-"))
    try:
        with transaction(engine) as conn:
            p = _principal(conn, user)
            if fmt == "ledger":
                store = PhotoStore(settings.photo_dir, max_bytes=settings.photo_max_bytes)
                output.write_bytes(ledger_xlsx(conn, p, q, store, ledger_title(conn, q.area)))
                return -1
            written, count = export_cases(conn, p, fmt, q, workdir)
            shutil.move(written, output)
            return count
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def export_cmd(
    fmt: Annotated[str, typer.Argument(help="geojson, gpkg, shp.zip, kml, csv, xlsx or ledger (整改台账 XLSX)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件 / output file")],
    area: Annotated[str | None, typer.Option(help="区域代码 / area code")] = None,
    category: Annotated[str | None, typer.Option(help="类别代码，逗号分隔 / categories")] = None,
    status: Annotated[str | None, typer.Option(help="状态，逗号分隔 / statuses")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="发现时间起 yyyy-mm-dd")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="发现时间止 yyyy-mm-dd")] = None,
    crs: Annotated[str | None, typer.Option(help="输出坐标系 / output CRS")] = None,
    user: Annotated[str | None, typer.Option(help="以该账号身份 / as this account")] = None,
) -> None:
    """导出案件或整改台账 / export cases (any GIS format) or the ledger, filtered."""
    if fmt != "ledger" and fmt not in MEDIA_TYPES:
        _fail(f"未知格式 / unknown format: {fmt} ({', '.join([*MEDIA_TYPES, 'ledger'])})")
    start, end = (date.fromisoformat(d) if d else None for d in (date_from, date_to))
    q = ExportQuery(area, parse_codes("category", category), parse_codes("status", status), start, end,
                    crs or "EPSG:4326")  # fmt: skip
    try:
        count = _export(fmt, output, q, user)
    except DomainError as exc:
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
        return
    shown = "" if count < 0 else f"，{count} 件 / cases"
    typer.echo(f"已导出 / written: {output} ({output.stat().st_size // 1024} KB){shown}")


def register_office_commands(app: typer.Typer) -> None:
    """Add ``bulletin``, ``import`` and ``export`` to the ``villagemap`` command."""
    app.command("bulletin")(bulletin)
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
