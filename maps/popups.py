"""Popup bodies (弹窗内容) of VillageMap's maps: cases, patrol stops, patrols; every text escaped.

A popup may carry a photo thumbnail (``thumb_url``: a path served by VillageMap, or a ``data:``
URI in a self-contained file) and "navigate" links (``nav``: the position in WGS84, GCJ-02 and
BD-09, see :func:`gis.display.navigation_points`) that open the phone's map app at the place:
高德 Gaode and 腾讯 expect GCJ-02, 百度 Baidu BD-09, the system map (``geo:``) WGS84. Links are
followed only when tapped, so an offline page asks for nothing.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote, urlencode

_e = html.escape


def nav_links(nav: dict[str, Any] | None, name: str) -> str:
    """导航链接: Gaode, Baidu and the system map app at the place (each in its own datum)."""
    if not nav:
        return ""
    g_lon, g_lat = nav["gcj02"]
    b_lon, b_lat = nav["bd09"]
    w_lon, w_lat = nav["wgs84"]
    amap = "https://uri.amap.com/marker?" + urlencode(
        {"position": f"{g_lon},{g_lat}", "name": name, "src": "villagemap", "coordinate": "gaode", "callnative": 1}
    )
    baidu = "https://api.map.baidu.com/marker?" + urlencode(
        {
            "location": f"{b_lat},{b_lon}",
            "title": name,
            "content": name,
            "output": "html",
            "coord_type": "bd09ll",
            "src": "webapp.villagemap",
        }
    )
    geo = f"geo:{w_lat},{w_lon}?q={w_lat},{w_lon}({quote(name)})"
    links = [("高德地图", amap, "amap"), ("百度地图", baidu, "baidu"), ("手机地图", geo, "geo")]
    anchors = " ".join(
        f'<a class="vm-nav-{cls}" href="{_e(href)}" target="_blank" rel="noopener">{label}</a>'
        for label, href, cls in links
    )
    return f'<div class="vm-nav">导航 Navigate: {anchors}</div>'


def thumbnail(url: str | None) -> str:
    """现场照片缩略图, or nothing."""
    if not url:
        return ""
    return f'<div class="vm-thumb"><img src="{_e(url)}" alt="现场照片 photo" loading="lazy"></div>'


def _rows(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def case_popup(props: dict[str, Any], label_zh: str, label_en: str) -> str:
    """Case popup: code, category, status, deadline (overdue in red), description, photo, navigate."""
    category = str(props.get("category_label") or label_zh)
    status_en = str(props.get("status") or "").replace("_", " ")
    status = f"{props.get('status_label') or ''} {status_en}".strip()
    deadline = _e(str(props.get("deadline") or "未设定 none"))
    if props.get("overdue"):
        deadline += ' <span class="vm-overdue-tag">已逾期 overdue</span>'
    rows = [
        ("编号 Code", _e(str(props.get("code", "")))),
        ("类别 Category", f"{_e(category)} <small>{_e(label_en)}</small>"),
        ("状态 Status", _e(status)),
        ("整改时限 Deadline", deadline),
    ]
    if props.get("stop_seq"):
        rows.insert(0, ("巡查顺序 Stop", f"第 {int(props['stop_seq'])} 站"))
    title = _e(str(props.get("title") or category))
    text = str(props.get("description") or "")
    text = text if len(text) <= 300 else text[:300] + "…"
    desc = f'<p class="vm-popup-desc">{_e(text)}</p>' if text else ""
    head = f'<div class="vm-popup-title">{title}</div>'
    extra = thumbnail(props.get("thumb_url")) + nav_links(props.get("nav"), str(props.get("code", "")))
    return f'<div class="vm-popup">{head}{_rows(rows)}{desc}{extra}</div>'


def metres(value: Any) -> str:
    """A distance for people: 850 米 / 1.24 千米."""
    m = float(value or 0)
    return f"{m / 1000:.2f} 千米" if m >= 1000 else f"{m:.0f} 米"


def minutes(seconds: Any) -> str:
    """A duration for people: 42 分钟 / 1 小时 5 分钟."""
    total = round(float(seconds or 0) / 60)
    return f"{total // 60} 小时 {total % 60} 分钟" if total >= 60 else f"{total} 分钟"


def stop_popup(props: dict[str, Any]) -> str:
    """Stop popup: order, case, the leg to it and the distance so far, navigate."""
    rows = [
        ("巡查顺序 Stop", f"第 {int(props.get('seq') or 0)} 站"),
        ("编号 Code", _e(str(props.get("code", "")))),
        ("类别 Category", _e(str(props.get("category_label") or props.get("category") or ""))),
        ("状态 Status", _e(str(props.get("status_label") or props.get("status") or ""))),
        ("本段 Leg", metres(props.get("leg_m")) + (" 沿路 by road" if props.get("leg_on_road") else " 直线 direct")),
        ("累计 So far", metres(props.get("cum_m"))),
    ]
    if props.get("overdue"):
        rows.append(
            ("整改时限 Deadline", f'{_e(str(props.get("deadline")))} <span class="vm-overdue-tag">已逾期</span>')
        )
    head = f'<div class="vm-popup-title">{_e(str(props.get("title") or props.get("code") or ""))}</div>'
    extra = thumbnail(props.get("thumb_url")) + nav_links(props.get("nav"), str(props.get("code", "")))
    return f'<div class="vm-popup">{head}{_rows(rows)}{extra}</div>'


def patrol_popup(props: dict[str, Any]) -> str:
    """Latest patrol popup: when, who, how far and long, valid or why not, cases passed."""
    valid = props.get("valid")
    verdict = (
        '<span class="vm-valid">有效 valid</span>' if valid else '<span class="vm-overdue-tag">无效 invalid</span>'
    )
    reasons = "；".join(_e(str(r)) for r in props.get("reason_labels") or [])
    rows = [
        ("开始 Started", _e(str(props.get("started_at") or "")[:16].replace("T", " "))),
        ("巡查人 By", _e(str(props.get("user") or ""))),
        ("里程 Length", metres(props.get("length_m"))),
        ("用时 Duration", minutes(props.get("duration_s"))),
        ("有效性 Validity", verdict + (f"：{reasons}" if reasons else "")),
        ("途经问题 Cases passed", str(len(props.get("passed_cases") or []))),
    ]
    return f'<div class="vm-popup"><div class="vm-popup-title">最近一次巡查 Latest patrol</div>{_rows(rows)}</div>'
