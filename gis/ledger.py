"""The rectification ledger (整改台账) as officials keep it in Excel, out and back in.

Export: one row per case a user may see, filtered by area, category, status and report date, in
the columns officials use (LEDGER_COLUMNS), with the photos before and after (整改前 / 整改后) as
thumbnails, a title row, a frozen header, fitted widths and A4 landscape printing. Five columns at
the end (子类, 标题, 复查日期, 几何WKT, 附加属性) carry what a re-import needs to give back the same cases.

Import: ``gis.gisio.importer.import_file`` reads this layout (headers by name, Chinese or English).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from openpyxl.drawing.image import Image as XlImage  # type: ignore[import-untyped]
from PIL import Image
from sqlalchemy import Connection, Numeric, Text, case, cast, func, literal, select

from gis import tables as t
from gis.access import Principal
from gis.cases import c, cat, lead, v
from gis.errors import NotFound, PhotoRejected
from gis.geojson import json_labels
from gis.gisio.export import EXPORT_ROLES, ExportQuery, base_select, responsible_names, tw
from gis.lifecycle import CASE_STATUSES, labels_zh
from gis.periods import SHANGHAI
from gis.photos import PhotoStore
from gis.xlsx import HEADER_FILL, add_sheet, new_workbook, to_bytes, wrapped_height

LEDGER_COLUMNS: Final[tuple[tuple[str, float], ...]] = (
    ("序号", 6),
    ("编号", 20),
    ("问题类型", 12),
    ("问题描述", 28),
    ("乡镇", 10),
    ("村", 10),
    ("网格", 17),
    ("经度", 12),
    ("纬度", 11),
    ("发现时间", 17),
    ("牵头单位", 14),
    ("责任单位", 14),
    ("整改时限", 11),
    ("整改措施及进展", 24),
    ("状态", 12),
    ("销号时间", 17),
    ("核查人", 14),
    ("整改前", 13),
    ("整改后", 13),
    ("子类", 10),
    ("标题", 20),
    ("复查日期", 11),
    ("几何WKT", 30),
    ("附加属性", 22),
)
WRAPPED: Final = (4, 11, 12, 14, 23, 24)  # 1-based: long texts wrap within their width
WIDTHS: Final = {i: width for i, (_name, width) in enumerate(LEDGER_COLUMNS, start=1)}
PHOTO_COLUMNS: Final = {17: "R", 18: "S"}  # 0-based position in the row → column letter
PHOTO_PX: Final = 80
MAX_LEDGER_ROWS: Final = 50_000
e = t.case_event.alias("e")


def _latest_note() -> Any:
    stmt = select(e.c.note).where(e.c.case_id == c.c.id, e.c.action != "report", e.c.note.isnot(None))
    return stmt.order_by(e.c.at.desc(), e.c.id.desc()).limit(1).scalar_subquery()


def _photo(actions: tuple[str, ...], newest: bool) -> Any:
    order = (e.c.at.desc(), e.c.id.desc()) if newest else (e.c.at, e.c.id)
    has = func.cardinality(e.c.photo_ids) > 0
    stmt = select(e.c.photo_ids[1]).where(e.c.case_id == c.c.id, e.c.action.in_(actions), has)
    return stmt.order_by(*order).limit(1).scalar_subquery()


def _closer() -> Any:
    u = t.app_user.alias("closer")
    stmt = select(func.coalesce(u.c.display_name, e.c.actor)).select_from(e.outerjoin(u, u.c.id == e.c.actor_id))
    return stmt.where(e.c.case_id == c.c.id, e.c.action == "close").order_by(e.c.at.desc()).limit(1).scalar_subquery()


def _columns() -> list[Any]:
    point, attrs = func.ST_PointOnSurface(c.c.geom), c.c.attributes
    wkt = case((func.GeometryType(c.c.geom) == "POINT", None), else_=func.ST_AsText(c.c.geom, 7))
    return [
        c.c.code,
        cat.c.label_zh,
        c.c.description,
        tw.c.name,
        v.c.name,
        c.c.grid_code,
        func.round(cast(func.ST_X(point), Numeric), 7),
        func.round(cast(func.ST_Y(point), Numeric), 7),
        c.c.reported_at,
        func.coalesce(lead.c.name, attrs.op("->>")("lead_unit_text")),
        func.coalesce(responsible_names(), attrs.op("->>")("responsible_units_text")),
        c.c.deadline,
        _latest_note(),
        json_labels(labels_zh(CASE_STATUSES)).op("->>")(c.c.status),
        c.c.closed_at,
        _closer(),
        _photo(("report",), newest=False),
        _photo(("resolve", "close"), newest=True),
        c.c.subtype,
        c.c.title,
        c.c.review_on,
        wkt,
        cast(attrs.op("-")(literal("lead_unit_text")).op("-")(literal("responsible_units_text")), Text),
    ]


def ledger_rows(conn: Connection, p: Principal, q: ExportQuery) -> Iterator[list[Any]]:
    """Ledger rows in case order, times in Beijing time, photo ids in the photo columns."""
    stmt = base_select(p, q, _columns()).limit(MAX_LEDGER_ROWS)
    with conn.execute(stmt, execution_options={"stream_results": True, "yield_per": 2000}) as result:
        for n, row in enumerate(result, start=1):
            yield _ledger_values(n, list(row))


def _ledger_values(n: int, row: list[Any]) -> list[Any]:
    values = [n, *row]
    for i in (9, 15):
        if isinstance(values[i], datetime):
            values[i] = values[i].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    for i in (12, 21):
        values[i] = values[i].isoformat() if values[i] else None
    values[7], values[8] = (float(values[7]), float(values[8])) if values[7] is not None else (None, None)
    values[23] = None if values[23] in (None, "{}") else values[23]
    return values


def _thumbnail(store: PhotoStore, photo_id: str) -> XlImage | None:
    try:
        path = store.thumbnail(photo_id)
    except (NotFound, PhotoRejected, OSError):
        return None
    with Image.open(path) as im:
        im.thumbnail((PHOTO_PX * 4 // 3, PHOTO_PX))
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=80)
    image = XlImage(io.BytesIO(out.getvalue()))
    image.width, image.height = im.width, im.height
    return image


def ledger_xlsx(conn: Connection, p: Principal, q: ExportQuery, store: PhotoStore, title: str) -> bytes:
    """The ledger workbook (.xlsx bytes) for the cases ``p`` may see that match ``q``."""
    p.require(*EXPORT_ROLES)
    wb = new_workbook()
    sheet = add_sheet(wb, "整改台账")
    sheet.title(
        title,
        f"导出时间 {datetime.now(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）；经纬度为 WGS84；"
        "最后五列供系统重新导入 / the last five columns are for re-import.",
    )
    sheet.row([name for name, _ in LEDGER_COLUMNS], bold=True, fill=HEADER_FILL, wrap=range(1, len(LEDGER_COLUMNS) + 1))
    for values in ledger_rows(conn, p, q):
        photos = {i: values[i] for i in PHOTO_COLUMNS if values[i]}
        cells = [None if i in PHOTO_COLUMNS else value for i, value in enumerate(values)]
        height = wrapped_height(cells, WIDTHS, WRAPPED)
        sheet.row(cells, wrap=WRAPPED, height=max(height or 0, 64 if photos else 0) or None)
        for i, photo_id in photos.items():
            image = _thumbnail(store, photo_id)
            if image is not None:
                sheet.ws.add_image(image, f"{PHOTO_COLUMNS[i]}{sheet.rows}")
    fixed = {i: width for i, width in WIDTHS.items() if i in WRAPPED or i - 1 in PHOTO_COLUMNS}
    sheet.finish(header_row=3, fixed=fixed)
    sheet.ws.print_area = f"A1:S{max(sheet.rows, 3)}"  # officials print 序号 … 整改后, not the re-import columns
    return to_bytes(wb)


def ledger_title(conn: Connection, area: str | None) -> str:
    """``渠口乡 农村人居环境整治问题整改台账`` for an area (or both counties)."""
    if area is None:
        return "农村人居环境整治问题整改台账"
    name = conn.execute(select(t.region.c.name).where(t.region.c.code == area)).scalar_one_or_none()
    return f"{name or area} 农村人居环境整治问题整改台账"
