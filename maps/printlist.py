"""The printable stop list (巡查清单, A4): stop, code, category, description, leg distance, a box to tick.

The same list is embedded in the patrol map (hidden on screen, the only thing printed) and served
as a page of its own. Plain HTML, every text escaped; no script, no network.
"""

from __future__ import annotations

import html
from typing import Any

from maps.popups import metres, minutes

_e = html.escape

PRINT_CSS = """
.vm-print { display: none; font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
            color: #000; font-size: 11pt; }
.vm-print h1 { font-size: 16pt; margin: 0 0 4pt; }
.vm-print .vm-print-meta { margin: 0 0 8pt; font-size: 10pt; }
.vm-print table { width: 100%; border-collapse: collapse; }
.vm-print th, .vm-print td { border: 0.6pt solid #444; padding: 3pt 4pt; vertical-align: top; text-align: left; }
.vm-print th { background: #eee; }
.vm-print td.vm-num { text-align: right; white-space: nowrap; }
.vm-print .vm-tick { display: inline-block; width: 11pt; height: 11pt; border: 1pt solid #000; }
.vm-print .vm-print-foot { margin-top: 10pt; font-size: 10pt; }
@page { size: A4 portrait; margin: 12mm; }
@media print {
  body > *:not(.vm-print) { display: none !important; }
  .vm-print { display: block; }
  .vm-print tr { page-break-inside: avoid; }
}
"""


def stop_rows(route: dict[str, Any]) -> list[dict[str, Any]]:
    """The stops of a route FeatureCollection, in visiting order."""
    stops = [
        f.get("properties") or {} for f in route.get("features") or [] if f.get("geometry", {}).get("type") == "Point"
    ]
    return sorted(stops, key=lambda p: int(p.get("seq") or 0))


def stop_list_section(title: str, route: dict[str, Any], *, visible: bool = False) -> str:
    """The list as a ``<section class="vm-print">`` (shown only when printing unless ``visible``)."""
    rows = []
    for p in stop_rows(route):
        overdue = ' <b class="vm-overdue-tag">逾期</b>' if p.get("overdue") else ""
        rows.append(
            "<tr>"
            f'<td class="vm-num">{int(p.get("seq") or 0)}</td>'
            f"<td>{_e(str(p.get('code', '')))}</td>"
            f"<td>{_e(str(p.get('category_label') or p.get('category') or ''))}{overdue}</td>"
            f"<td>{_e(str(p.get('title') or ''))}</td>"
            f'<td class="vm-num">{metres(p.get("leg_m"))}</td>'
            f'<td class="vm-num">{metres(p.get("cum_m"))}</td>'
            '<td><span class="vm-tick"></span></td>'
            "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("序号", "编号", "类别", "描述", "本段距离", "累计", "完成"))
    body = "".join(rows) or '<tr><td colspan="7">没有待巡查的问题 / nothing to visit</td></tr>'
    mode = "步行" if route.get("mode") == "walk" else "骑行"
    meta = (
        f"共 {len(rows)} 个巡查点，全程 {metres(route.get('total_m'))}，{mode}约 {minutes(route.get('duration_s'))}"
        f"（{'沿路网' if route.get('network') else '直线距离'}）。巡查人：________ 日期：________"
    )
    style = ' style="display:block"' if visible else ""
    title = place(title)
    return (
        f'<section class="vm-print"{style}><h1>{_e(title)} 巡查清单</h1><p class="vm-print-meta">{meta}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        '<p class="vm-print-foot">签字 Signature：________　　备注：示意数据，非审定地图。</p></section>'
    )


def place(title: str) -> str:
    """The place named by a patrol-map title (without 巡查图)."""
    return title.removesuffix("巡查图").strip()


def stop_list_page(title: str, route: dict[str, Any]) -> str:
    """The list as a page of its own (打印页), A4, Chinese."""
    section = stop_list_section(title, route, visible=True)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(place(title))} 巡查清单</title><style>{PRINT_CSS}</style></head><body>{section}</body></html>\n"
    )
