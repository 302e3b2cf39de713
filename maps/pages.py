"""Plain pages next to the maps (页面): the list of grids not patrolled this week.

Dict in (from :func:`gis.patrol_reads.unpatrolled_grids`), HTML out; Chinese first, every text
escaped, no script, no network.
"""

from __future__ import annotations

import html
from typing import Any

_e = html.escape

PAGE_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; margin: 16px;
       color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; }
p.vm-meta { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; max-width: 960px; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; }
th { background: #f3f3f3; }
td.vm-none { color: #b00; }
"""


def unpatrolled_page(found: dict[str, Any]) -> str:
    """本周未巡查网格: grid, village, township, managers, patrols this week, last valid patrol."""
    rows = []
    for g in found["grids"]:
        managers = _e(str(g.get("managers") or ""))
        manager_cell = managers if managers else '<span class="vm-none">未配备网格员 none</span>'
        last = str(g.get("last_valid_patrol") or "")[:16].replace("T", " ") or "从未 never"
        rows.append(
            f'<tr data-grid="{_e(str(g["grid_code"]))}"><td>{_e(str(g["grid_code"]))}</td>'
            f"<td>{_e(' '.join(str(g.get(k) or '') for k in ('township', 'village', 'grid_name')))}</td>"
            f"<td>{manager_cell}</td><td>{int(g.get('patrols_this_week') or 0)}</td><td>{_e(last)}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="5">本周所有网格均已有效巡查 / every grid has a valid patrol</td></tr>'
    title = f"本周未巡查网格 Grids not patrolled — {_e(found['week'])}"
    meta = (
        f"区域 {_e(found['area'])}：共 {int(found['total_grids'])} 个网格，{len(found['grids'])} 个本周（自 "
        f"{_e(found['monday'])} 起）没有有效巡查。有效巡查：≥30 分钟、≥2 千米，见巡查规则。"
    )
    head = "<tr><th>网格代码</th><th>位置</th><th>网格员</th><th>本周巡查次数</th><th>最近有效巡查</th></tr>"
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        f'<style>{PAGE_CSS}</style></head><body><h1>{title}</h1><p class="vm-meta">{meta}</p>'
        f"<table><thead>{head}</thead><tbody>{body}</tbody></table></body></html>\n"
    )
