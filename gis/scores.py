"""Contractor scoring (第三方保洁考核): monthly item scores by township and villages, weighted 60/40.

Township staff (an inspector or admin of the township) and village officials (``village_official``
of the village) each submit item scores for a month on the contractor's scheme (考核细则). Every
submission is kept; the latest per scorer area and month counts. The month's result:

    township = mean of the latest township submissions (normally one)
    village  = mean of the latest submission of each village that scored
    final    = w_t × township + w_v × village   (scheme weights, 0.6 / 0.4 in 渠口乡)

``final`` is only given when both levels have scored. Objective figures of the cases dispatched to
the contractor (on-time rate, returned after check, overdue) are shown beside it (gis.figures).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, insert, select, text

from gis import tables as t
from gis import tables_office as o
from gis.access import Principal
from gis.errors import Forbidden, InvalidField, NotFound
from gis.figures import total_figures
from gis.periods import Period, current_month, month_period

DEFAULT_ITEMS: Final[list[dict[str, Any]]] = [
    {"code": "collection", "label_zh": "垃圾清运及时", "label_en": "Timely collection", "max": 30},
    {"code": "cleanliness", "label_zh": "保洁质量", "label_en": "Cleaning quality", "max": 30},
    {"code": "facilities", "label_zh": "设施设备维护", "label_en": "Bins and vehicles kept up", "max": 15},
    {"code": "sorting", "label_zh": "垃圾分类宣传指导（两次六分）", "label_en": "Sorting guidance", "max": 15},
    {"code": "response", "label_zh": "问题响应与服务态度", "label_en": "Response and attitude", "max": 10},
]
DEFAULT_WEIGHTS: Final[tuple[float, float]] = (0.6, 0.4)
SCORER_ROLES: Final[dict[str, str]] = {"inspector": "township", "admin": "township", "village_official": "village"}


def item_total(items: dict[str, float]) -> float:
    """The sum of the item scores, to two decimals."""
    return round(sum(float(v) for v in items.values()), 2)


def contractor_unit(conn: Connection, ref: str) -> Any:
    """A contractor unit by id or code (二泉公司: ``640221202-erquan``), or NotFound."""
    u = t.unit
    where = u.c.id == int(ref) if ref.isdigit() else u.c.code == ref
    row = conn.execute(select(u).where(where, u.c.kind == "contractor")).one_or_none()
    if row is None:
        raise NotFound(f"第三方公司 {ref} 不存在。", f"There is no contractor {ref}.", contractor=ref)
    return row


def scheme(conn: Connection, unit_id: int, month: date) -> dict[str, Any]:
    """The scheme in force for ``month``: items and weights (the defaults if none is stored)."""
    s = o.contractor_scheme
    row = conn.execute(
        select(s).where(s.c.unit_id == unit_id, s.c.from_month <= month).order_by(s.c.from_month.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return {"items": DEFAULT_ITEMS, "township_weight": DEFAULT_WEIGHTS[0], "village_weight": DEFAULT_WEIGHTS[1]}
    return {
        "items": list(row.items),
        "township_weight": float(row.township_weight),
        "village_weight": float(row.village_weight),
        "from_month": row.from_month.isoformat(),
    }


def _scorer_area(p: Principal, level: str, unit: Any, area: str | None) -> str:
    """The area the scorer speaks for: given, or the caller's only area of the right level."""
    want = 9 if level == "township" else 12
    mine = [a for a in p.areas if len(a) == want]
    chosen = area or (mine[0] if len(mine) == 1 else None)
    if chosen is None or len(chosen) != want or not chosen.isdigit():
        what = "乡镇（9 位）" if level == "township" else "村（12 位）"
        raise InvalidField("area", f"请用 area 指明评分的{what}代码。", f"Name the {level} you score for in 'area'.")
    if not any(chosen.startswith(a) for a in p.areas):
        raise Forbidden(f"{chosen} 不在您负责的区域内。", f"{chosen} is outside your areas.", area=chosen)
    if unit.area_code and not chosen.startswith(unit.area_code):
        raise InvalidField("area", f"{unit.name} 不服务于 {chosen}。", f"{unit.code} does not serve {chosen}.")
    return chosen


def _check_items(items: dict[str, Any], sheet: list[dict[str, Any]]) -> dict[str, float]:
    codes = [i["code"] for i in sheet]
    if set(items) != set(codes):
        raise InvalidField(
            "items",
            f"评分项须为且仅为：{'、'.join(codes)}。",
            f"items must be exactly: {', '.join(codes)}.",
            expected=codes,
        )
    out = {}
    for item in sheet:
        value = items[item["code"]]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= item["max"]
        ):
            raise InvalidField(
                f"items.{item['code']}",
                f"“{item['label_zh']}”须为 0–{item['max']} 分。",
                f"{item['label_en']} must be 0–{item['max']} points.",
                value=str(value),
            )
        out[item["code"]] = float(value)
    return out


def submit_score(
    conn: Connection,
    p: Principal,
    unit_ref: str,
    month_label: str,
    items: dict[str, Any],
    *,
    area: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Store one scorer's item scores for a month (append-only); returns the month's result."""
    p.require(*SCORER_ROLES)
    level = SCORER_ROLES[str(p.role)]
    unit = contractor_unit(conn, unit_ref)
    month = month_period(month_label)
    if month.start > current_month().start:
        raise InvalidField("month", "不能为未来的月份评分。", "A future month cannot be scored.", value=month.label)
    sheet = scheme(conn, unit.id, month.start)
    checked = _check_items(items, sheet["items"])
    chosen = _scorer_area(p, level, unit, area)
    conn.execute(
        insert(o.contractor_score).values(
            unit_id=unit.id,
            month=month.start,
            scorer_level=level,
            area_code=chosen,
            scorer_id=p.user_id,
            items=checked,
            total=item_total(checked),
            note=note,
        )
    )
    return month_result(conn, unit.id, month, show_scorers=True)


LATEST = text("""
SELECT DISTINCT ON (s.scorer_level, s.area_code)
       s.scorer_level, s.area_code, r.name AS area_name, s.items::text AS items, s.total, s.note,
       s.created_at, u.username AS scorer
FROM contractor_score s JOIN region r ON r.code = s.area_code LEFT JOIN app_user u ON u.id = s.scorer_id
WHERE s.unit_id = :unit AND s.month = :month
ORDER BY s.scorer_level, s.area_code, s.created_at DESC, s.id DESC
""")


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def month_result(conn: Connection, unit_id: int, month: Period, *, show_scorers: bool = False) -> dict[str, Any]:
    """A month's scores: latest per scorer area, township and village means, the weighted final."""
    sheet = scheme(conn, unit_id, month.start)
    rows = conn.execute(LATEST, {"unit": unit_id, "month": month.start}).all()
    entries = [
        {
            "level": r.scorer_level,
            "area_code": r.area_code,
            "area_name": r.area_name,
            "items": json.loads(r.items),
            "total": float(r.total),
            "note": r.note,
            "submitted_at": r.created_at.isoformat(),
            **({"scorer": r.scorer} if show_scorers else {}),
        }
        for r in rows
    ]
    township = _mean([e["total"] for e in entries if e["level"] == "township"])
    village = _mean([e["total"] for e in entries if e["level"] == "village"])
    final = None
    if township is not None and village is not None:
        final = round(sheet["township_weight"] * township + sheet["village_weight"] * village, 2)
    figures = total_figures(conn, month, unit_id=unit_id)
    return {
        "month": month.label,
        "township": township,
        "village": village,
        "final": final,
        "complete": final is not None,
        "weights": {"township": sheet["township_weight"], "village": sheet["village_weight"]},
        "items": sheet["items"],
        "entries": entries,
        "villages_scored": sum(e["level"] == "village" for e in entries),
        "objective": figures.as_dict(),
    }


MONTHS = text("SELECT DISTINCT month FROM contractor_score WHERE unit_id = :unit ORDER BY month")


def score_history(conn: Connection, unit_id: int, *, show_scorers: bool = False) -> list[dict[str, Any]]:
    """Every scored month, oldest first."""
    months = [month_period(m.strftime("%Y-%m")) for m in conn.execute(MONTHS, {"unit": unit_id}).scalars()]
    return [month_result(conn, unit_id, m, show_scorers=show_scorers) for m in months]


def check_may_see(p: Principal, unit: Any) -> None:
    """Scores are for staff whose areas overlap the contractor's, and for the contractor itself."""
    if p.role == "contractor":
        if p.unit_id != unit.id:
            raise Forbidden("只能查看本公司的考核。", "A contractor sees only its own scores.")
        return
    p.require("inspector", "admin", "viewer", "village_official")
    area = unit.area_code or ""
    if not any(a.startswith(area) or area.startswith(a) for a in p.areas):
        raise Forbidden(f"{unit.name} 不在您负责的区域内。", f"{unit.code} is outside your areas.")
