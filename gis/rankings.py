"""The red-black list (红黑榜): an area's parts ranked by a documented score for a period.

A township's villages (or a county's townships) get, from the period figures (gis.figures) and the
campaign quotas (gis.attainment), four components in 0..1 (docs/office.md §2):

    on_time  按期结案率    due cases closed by their deadline / due cases        (weight 0.3)
    closure  结案率        due cases closed by the period's end / due cases      (weight 0.2)
    quota    任务达标率    quota slots met / quota slots in the period           (weight 0.3)
    overdue  逾期控制      1 − overdue open cases / open cases at the end (1 if none open)  (weight 0.2)

    score = 100 × Σ wᵢ·xᵢ / Σ wᵢ   over the components that have data (no due cases → no on_time,
                                    closure; no quota slots → no quota)

Ranked by score (high first), then fewer overdue cases, then code. The red list (红榜) is the top
of the entries with data (cases due or quota slots), the black list (黑榜) the bottom of the rest
that have something wrong (score < 100), worst first; by default 20 % and 10 % of the entries
(rounded down), at least one each. Every black entry carries reasons generated from the data, in Chinese and English.
"""

from __future__ import annotations

import math
from typing import Any, Final

from sqlalchemy import Connection, select

from gis import tables as t
from gis.attainment import quota_by_member
from gis.campaigns import campaigns_in
from gis.errors import InvalidParameter, unknown
from gis.figures import Figures, period_figures
from gis.periods import Period

WEIGHTS: Final[dict[str, float]] = {"on_time": 0.3, "closure": 0.2, "quota": 0.3, "overdue": 0.2}
MEASURES: Final[dict[str, str]] = {"black_odorous_water": "个", "dilapidated_house": "户", "household_toilet": "户"}
DEFAULT_RED, DEFAULT_BLACK = "0.2", "0.1"


def list_size(raw: str | None, default: str, total: int, parameter: str) -> int:
    """How many entries a list takes: a count (``3``) or a share (``0.2`` or ``20%``), at least 1."""
    text = (raw or default).strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0 or (value >= 1 and value != int(value)):
        raise InvalidParameter(
            parameter,
            f"参数 {parameter}“{text}”无效：填个数（如 3）或比例（如 0.2 或 20%）。",
            f"{parameter} '{text}' is invalid: give a count (e.g. 3) or a share (e.g. 0.2 or 20%).",
            value=text,
        )
    count = int(value) if value >= 1 else math.floor(value * total)
    return max(1, min(count, total))


def components(f: Figures, quota: dict[str, Any] | None) -> dict[str, float | None]:
    """The four score components of one entry (None where there is no data)."""
    overdue = 1.0 - f.overdue / f.open_end if f.open_end else 1.0
    return {
        "on_time": f.on_time_rate,
        "closure": f.closure_rate,
        "quota": quota["tally"]["rate"] if quota else None,
        "overdue": overdue,
    }


def score(parts: dict[str, float | None]) -> float:
    """100 × the weighted mean of the components that have data, to one decimal."""
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(WEIGHTS[k] for k in present)
    return round(100 * sum(WEIGHTS[k] * v for k, v in present.items()) / weight, 1)


def _labels(conn: Connection) -> dict[str, tuple[str, str]]:
    c = t.category
    return {r.code: (r.label_zh, r.label_en) for r in conn.execute(select(c.c.code, c.c.label_zh, c.c.label_en))}


def reasons(f: Figures, quota: dict[str, Any] | None, labels: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """Why an entry ranks low, from its data: (中文, English) pairs, most serious first."""
    out = []
    for code, values in sorted(f.categories.items(), key=lambda kv: -kv[1].get("overdue", 0)):
        n = values.get("overdue", 0)
        if n:
            zh, en = labels.get(code, (code, code))
            out.append((f"{n} {MEASURES.get(code, '处')}{zh}逾期未销号", f"{en}: {n} overdue, not struck off"))
    for code, miss in (quota or {}).get("missed", {}).items():
        zh, en = labels.get(code, (code, code))
        m = miss["min_count"]
        out.append(
            (
                f"{zh}有 {miss['weeks']} 周未完成每周 {m} {MEASURES.get(code, '处')}的任务",
                f"{en}: the weekly quota of {m} was missed in {miss['weeks']} week(s)",
            )
        )
    if f.due and f.due_on_time < f.due:
        pct = round(100 * f.due_on_time / f.due)
        out.append(
            (
                f"按期结案率 {pct}%（应结案 {f.due} 件，按期结案 {f.due_on_time} 件）",
                f"on-time closure {pct}% ({f.due_on_time} of {f.due} due cases)",
            )
        )
    if f.due and f.due_closed < f.due:
        pct = round(100 * f.due_closed / f.due)
        out.append(
            (
                f"结案率 {pct}%（应结案 {f.due} 件，已结案 {f.due_closed} 件）",
                f"closure {pct}% ({f.due_closed} of {f.due} due cases closed)",
            )
        )
    if f.returned:
        out.append((f"{f.returned} 次核查不通过返工", f"{f.returned} case(s) returned after a failed check"))
    return out


def _members(conn: Connection, area: str) -> tuple[Any, list[Any]]:
    r = t.region
    row = conn.execute(select(r.c.code, r.c.name, r.c.level).where(r.c.code == area)).one_or_none()
    if row is None:
        raise unknown("area", area, "区域代码", "area code")
    if row.level not in ("county", "township"):
        raise InvalidParameter(
            "area",
            "红黑榜按乡镇（排各村）或区县（排各乡镇）编制，请给出 9 位或 6 位代码。",
            "The red-black list ranks a township's villages or a county's townships: give a 9- or 6-digit code.",
            value=area,
        )
    children = conn.execute(select(r.c.code, r.c.name).where(r.c.parent_code == area).order_by(r.c.code)).all()
    return row, list(children)


def _entry(code: str, name: str, f: Figures, quota: dict[str, Any] | None) -> dict[str, Any]:
    parts = components(f, quota)
    return {
        "code": code,
        "name": name,
        "score": score(parts),
        "components": parts,
        "figures": f.as_dict(),
        "quota": quota["tally"] if quota else None,
        "eligible": bool(f.due or quota),
        "list": None,
        "reasons_zh": [],
        "reasons_en": [],
    }


def period_json(period: Period) -> dict[str, str]:
    """A period as JSON: label, Chinese label, kind and its dates."""
    return {"label": period.label, "label_zh": period.label_zh, "kind": period.kind,
            "start": period.start.isoformat(), "end": period.end.isoformat()}  # fmt: skip


def red_black(
    conn: Connection,
    area: str,
    period: Period,
    *,
    red: str | None = None,
    black: str | None = None,
    figures: dict[str, Figures] | None = None,
) -> dict[str, Any]:
    """The ranked entries of ``area`` for ``period``, with the red and black lists marked."""
    row, children = _members(conn, area)
    member_len = len(area) + 3
    if figures is None:
        figures = period_figures(conn, period, area=area, member_len=member_len)
    quotas = quota_by_member(conn, area, period, member_len, campaigns_in(conn, area, period))
    entries = [_entry(c.code, c.name, figures.get(c.code, Figures()), quotas.get(c.code)) for c in children]
    entries.sort(key=lambda e: (-e["score"], e["figures"]["overdue"], e["code"]))
    for rank, e in enumerate(entries, start=1):
        e["rank"] = rank
    n_red = list_size(red, DEFAULT_RED, len(entries), "red")
    for e in [e for e in entries if e["eligible"]][:n_red]:
        e["list"] = "red"
    labels = _labels(conn)
    candidates = [e for e in entries if e["list"] is None and e["score"] < 100]
    for e in candidates[::-1][: list_size(black, DEFAULT_BLACK, len(entries), "black")]:
        e["list"] = "black"
        pairs = reasons(figures.get(e["code"], Figures()), quotas.get(e["code"]), labels)
        e["reasons_zh"], e["reasons_en"] = [p[0] for p in pairs], [p[1] for p in pairs]
    return {
        "area": {"code": row.code, "name": row.name, "level": row.level},
        "period": period_json(period),
        "weights": WEIGHTS,
        "red": [e["code"] for e in entries if e["list"] == "red"],
        "black": [e["code"] for e in entries[::-1] if e["list"] == "black"],
        "entries": entries,
    }
