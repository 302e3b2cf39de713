"""Office workbooks (内业报表): the red-black list, the monthly bulletin, contractor scores.

Each takes the plain data its gis module computed and returns .xlsx bytes (gis.xlsx does the
layout: Chinese headers with English beside, frozen headers, fitted widths, A4 landscape).
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference  # type: ignore[import-untyped]

from gis.xlsx import BLACK_FILL, HEADER_FILL, RED_FILL, add_sheet, new_workbook, percent, table, to_bytes

LIST_LABELS = {"red": "红榜 red", "black": "黑榜 black", None: ""}
RANK_HEADERS = [
    "排名 Rank",
    "名称 Name",
    "代码 Code",
    "榜单 List",
    "得分 Score",
    "按期结案率 On-time",
    "结案率 Closure",
    "任务达标率 Quota",
    "逾期件数 Overdue",
    "应结案 Due",
    "上报 Reported",
    "原因 Reasons",
]


def _rank_rows(ranking: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for e in ranking["entries"]:
        c, f = e["components"], e["figures"]
        rows.append(
            [
                e["rank"],
                e["name"],
                e["code"],
                LIST_LABELS[e["list"]],
                e["score"],
                percent(c["on_time"]),
                percent(c["closure"]),
                percent(c["quota"]),
                f["overdue"],
                f["due"],
                f["reported"],
                "；".join(e["reasons_zh"]),
            ]
        )
    return rows


def _ranking_sheet(wb: Any, ranking: dict[str, Any], name: str = "红黑榜") -> None:
    sheet = add_sheet(wb, name)
    title = f"{ranking['area']['name']} {ranking['period']['label_zh']} 红黑榜"
    note = (
        "得分 = 100 × (0.3×按期结案率 + 0.2×结案率 + 0.3×任务达标率 + 0.2×逾期控制) / 有数据的权重之和；"
        "Score = weighted mean of on-time closure, closure, quota attainment and overdue control."
    )
    sheet.title(title, note)
    sheet.row(RANK_HEADERS, bold=True, fill=HEADER_FILL, wrap=range(1, 13))
    for row, entry in zip(_rank_rows(ranking), ranking["entries"], strict=True):
        fill = RED_FILL if entry["list"] == "red" else BLACK_FILL if entry["list"] == "black" else None
        sheet.row(row, fill=fill, wrap=(12,))
    sheet.finish(header_row=3, fixed={12: 60})


def red_black_xlsx(ranking: dict[str, Any]) -> bytes:
    """The red-black list as a workbook."""
    wb = new_workbook()
    _ranking_sheet(wb, ranking)
    return to_bytes(wb)


FIGURE_ROWS = [
    ("上报 Reported", "reported"),
    ("立案 Registered", "registered"),
    ("应结案 Due", "due"),
    ("结案 Closed (of due)", "due_closed"),
    ("按期结案 Closed on time", "due_on_time"),
    ("本月结案 Closed this month", "closed"),
    ("逾期未结 Overdue", "overdue"),
    ("核查不通过 Returned", "returned"),
]


def _figure_sheet(wb: Any, data: dict[str, Any]) -> None:
    f = data["figures"]
    rows: list[list[Any]] = [[label, f[key]] for label, key in FIGURE_ROWS]
    rows += [
        ["结案率 Closure rate", percent(f["closure_rate"])],
        ["按期结案率 On-time rate", percent(f["on_time_rate"])],
    ]
    rows += [
        [f"高发问题 Top {i} {c['label_zh']} {c['label_en']}", c["reported"]]
        for i, c in enumerate(data["top_categories"], start=1)
    ]
    title = f"{data['area']['name']} {data['period']['label_zh']} 农村人居环境整治月度通报"
    table(
        add_sheet(wb, "主要指标"),
        ["指标 Figure", "数值 Value"],
        rows,
        title=title,
        note=f"生成时间 Generated {data['generated_at']}（北京时间）",
    )


def _members_sheet(wb: Any, data: dict[str, Any]) -> None:
    headers = ["代码 Code", "名称 Name", "上报", "立案", "应结案", "结案", "结案率", "按期结案率", "逾期"]
    rows = [
        [
            m["code"],
            m["name"],
            m["reported"],
            m["registered"],
            m["due"],
            m["due_closed"],
            percent(m["closure_rate"]),
            percent(m["on_time_rate"]),
            m["overdue"],
        ]
        for m in data["members"]
    ]
    table(add_sheet(wb, "分区统计"), headers, rows, title="分区统计 By area")


def _series_sheet(wb: Any, data: dict[str, Any]) -> None:
    sheet = add_sheet(wb, "月度走势")
    table(
        sheet,
        ["月份 Month", "上报 Reported", "结案 Closed"],
        [[r["month"], r["reported"], r["closed"]] for r in data["series"]],
        title="近12个月上报与结案",
    )
    chart = BarChart()
    chart.title = "上报与结案 Reported and closed"
    n = len(data["series"])
    chart.add_data(Reference(sheet.ws, min_col=2, max_col=3, min_row=2, max_row=2 + n), titles_from_data=True)
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=3, max_row=2 + n))
    chart.width, chart.height = 22, 9
    sheet.ws.add_chart(chart, "E3")


def _overdue_sheet(wb: Any, data: dict[str, Any]) -> None:
    od = data["overdue"]
    headers = ["编号 Code", "问题类型", "标题 Title", "乡镇", "村", "整改时限", "逾期天数", "状态", "处置单位"]
    rows = [
        [
            c["code"],
            c["category_label"],
            c["title"],
            c["township"],
            c["village"],
            c["deadline"],
            c["days_overdue"],
            c["status"],
            c["assignee"],
        ]
        for c in od["cases"]
    ]
    note = f"逾期未结 {od['total']} 件" + ("" if data["detail"] else "（明细仅对本区域工作人员可见）")
    table(add_sheet(wb, "逾期清单"), headers, rows, title="逾期未结案件 Overdue cases", note=note)


def bulletin_xlsx(data: dict[str, Any]) -> bytes:
    """The monthly bulletin as a workbook: figures, by area, trend (with a chart), overdue, red-black."""
    wb = new_workbook()
    _figure_sheet(wb, data)
    _members_sheet(wb, data)
    _series_sheet(wb, data)
    _overdue_sheet(wb, data)
    _ranking_sheet(wb, data["red_black"])
    return to_bytes(wb)


SCORE_HEADERS = ["月份 Month", "乡级 Township", "村级 Village", "综合 Final", "村评分数 Villages scored",
                 "按期结案率 On-time", "核查不通过 Returned", "逾期 Overdue", "本月结案 Closed"]  # fmt: skip


def _score_row(m: dict[str, Any]) -> list[Any]:
    o = m["objective"]
    return [m["month"], m["township"], m["village"], m["final"], m["villages_scored"], percent(o["on_time_rate"]),
            o["returned"], o["overdue"], o["closed"]]  # fmt: skip


def scores_xlsx(unit: dict[str, Any], history: list[dict[str, Any]]) -> bytes:
    """A contractor's monthly scores: one row per month, then one row per scorer and month."""
    wb = new_workbook()
    w = history[-1]["weights"] if history else {"township": 0.6, "village": 0.4}
    note = f"综合 = {w['township']:.0%} 乡级 + {w['village']:.0%} 村级 / final = weighted township and village"
    rows = [_score_row(m) for m in history]
    table(add_sheet(wb, "月度考核"), SCORE_HEADERS, rows, title=f"{unit['name']} 月度考核", note=note)
    items = history[-1]["items"] if history else []
    detail = [[m["month"], e["level"], e["area_name"], e["total"], *[e["items"].get(i["code"]) for i in items]]
              for m in history for e in m["entries"]]  # fmt: skip
    headers = ["月份", "评分层级", "评分单位", "合计", *[i["label_zh"] for i in items]]
    table(add_sheet(wb, "评分明细"), headers, detail, title="评分明细 Item scores")
    return to_bytes(wb)
