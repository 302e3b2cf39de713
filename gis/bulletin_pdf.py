"""The monthly bulletin as a printable PDF (月度通报 PDF), A4 portrait, Chinese text in WenQuanYi.

reportlab lays out the same data the HTML page shows: headline figures, the top categories, the
bar chart of reports and closures, the small map of the parts coloured by closure rate, the
red-black list and the overdue cases (for staff in scope). The font is embedded, so the file reads
the same on any machine.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, Polygon, String  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from gis.office_xlsx import FIGURE_ROWS
from gis.xlsx import percent

CJK_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "WenQuanYiMicroHei"
RATE_COLOURS = ((0.95, "#1a9850"), (0.85, "#91cf60"), (0.70, "#fee08b"), (0.50, "#fc8d59"), (0.0, "#d73027"))


class FontMissing(RuntimeError):
    """The CJK font for PDFs is not installed (apt-get install fonts-wqy-microhei)."""


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register WenQuanYi Micro Hei with reportlab once; returns its name."""
    if not CJK_FONT_PATH.is_file():
        raise FontMissing(f"缺少中文字体 {CJK_FONT_PATH}：apt-get install fonts-wqy-microhei")
    pdfmetrics.registerFont(TTFont(FONT, str(CJK_FONT_PATH), subfontIndex=0))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
    }


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), register_font()),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    return Table(
        [[("" if v is None else str(v)) for v in r] for r in rows], colWidths=widths, style=style, repeatRows=1
    )


def _chart(series: list[dict[str, Any]]) -> Drawing:
    drawing = Drawing(170 * mm, 55 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 150 * mm, 38 * mm
    chart.data = [[r["reported"] for r in series], [r["closed"] for r in series]]
    chart.categoryAxis.categoryNames = [r["month"][2:] for r in series]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = register_font()
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor, chart.bars[1].fillColor = colors.HexColor("#4e79a7"), colors.HexColor("#59a14f")
    drawing.add(chart)
    drawing.add(
        String(
            12 * mm,
            51 * mm,
            "近12个月 上报（蓝）与结案（绿）/ reported (blue) and closed (green)",
            fontName=register_font(),
            fontSize=8,
        )
    )
    return drawing


def _rate_colour(value: float | None) -> colors.Color:
    if value is None:
        return colors.HexColor("#d9d9d9")
    return colors.HexColor(next(c for bound, c in RATE_COLOURS if value >= bound))


def _map(collection: dict[str, Any], width: float = 170 * mm, height: float = 80 * mm) -> Drawing:
    """The parts of the area as polygons coloured by closure rate, names at their label points."""
    import math

    rings = [(f, ring) for f in collection["features"] for ring in _outer_rings(f["geometry"])]
    drawing = Drawing(width, height)
    if not rings:
        return drawing
    lons = [p[0] for _, r in rings for p in r]
    lats = [p[1] for _, r in rings for p in r]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = min(width / ((max(lons) - min(lons)) * kx or 1), height / ((max(lats) - min(lats)) or 1))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (lon - min(lons)) * kx * scale, (lat - min(lats)) * scale

    for feature, ring in rings:
        points = [v for p in ring for v in xy(p[0], p[1])]
        fill = _rate_colour(feature["properties"].get("value"))
        drawing.add(Polygon(points, fillColor=fill, strokeColor=colors.HexColor("#444444"), strokeWidth=0.4))
    for feature in collection["features"]:
        label = feature["properties"].get("label")
        if label:
            x, y = xy(label[0], label[1])
            drawing.add(
                String(x, y, feature["properties"]["name"], fontName=register_font(), fontSize=6, textAnchor="middle")
            )
    return drawing


def _outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [polygon[0] for polygon in geometry["coordinates"]] if geometry["type"] == "MultiPolygon" else []


def _ranking_rows(data: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["排名", "名称", "榜单", "得分", "按期结案率", "任务达标率", "逾期", "原因"]]
    for e in data["red_black"]["entries"]:
        tag = {"red": "红榜", "black": "黑榜"}.get(e["list"] or "", "")
        reasons = "；".join(e["reasons_zh"])
        rows.append(
            [
                e["rank"],
                e["name"],
                tag,
                e["score"],
                percent(e["components"]["on_time"]),
                percent(e["components"]["quota"]),
                e["figures"]["overdue"],
                reasons[:40],
            ]
        )
    return rows


def _figure_rows(f: dict[str, Any]) -> list[list[Any]]:
    closure, on_time = percent(f["closure_rate"]), percent(f["on_time_rate"])
    rates = [["结案率 Closure rate", closure], ["按期结案率 On-time rate", on_time]]
    return [["指标", "数值"], *[[label, f[key]] for label, key in FIGURE_ROWS], *rates]


def _overdue(data: dict[str, Any], st: dict[str, ParagraphStyle]) -> list[Any]:
    od = data["overdue"]
    if od["cases"]:
        rows = [["编号", "问题类型", "村", "整改时限", "逾期天数"]]
        rows += [[c["code"], c["category_label"], c["village"], c["deadline"], c["days_overdue"]] for c in od["cases"]]
        return [_table(rows)]
    if od["total"]:
        return [Paragraph("明细仅对本区域工作人员可见 / case details are for staff of this area.", st["body"])]
    return []


def bulletin_pdf(data: dict[str, Any]) -> bytes:
    """The bulletin as PDF bytes."""
    st = _styles()
    top = "、".join(f"{c['label_zh']} {c['reported']} 件" for c in data["top_categories"]) or "无"
    name, period = data["area"]["name"], data["period"]
    story: list[Any] = [
        Paragraph(f"{name} {period['label_zh']} 农村人居环境整治月度通报", st["title"]),
        Paragraph(f"Monthly bulletin {period['label']} · 生成于 {data['generated_at']}（北京时间）", st["body"]),
        Paragraph("一、主要指标 Figures", st["h2"]), _table(_figure_rows(data["figures"]), [70 * mm, 40 * mm]),
        Paragraph(f"高发问题（前三）Top categories：{top}", st["body"]),
        Paragraph("二、月度走势 Trend", st["h2"]), _chart(data["series"]),
        Paragraph("三、分区结案率 Closure rate by area", st["h2"]), _map(data["map"]),
        Paragraph("四、红黑榜 Red-black list", st["h2"]), _table(_ranking_rows(data)),
        Paragraph(f"五、逾期未结 Overdue: {data['overdue']['total']} 件", st["h2"]), *_overdue(data, st),
    ]  # fmt: skip
    out = io.BytesIO()
    margin = 15 * mm
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=f"{name} {period['label']} 月度通报")  # fmt: skip
    doc.build([*story, Spacer(1, 4 * mm)])
    return out.getvalue()
