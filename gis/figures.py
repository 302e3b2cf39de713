"""Period figures (统计口径) of cases, as of the end of a period, counted in one statement.

For a period ``[start, end)`` of local dates (docs/office.md):

- 上报 reported: cases with their ``report`` event in the period; 立案 registered likewise.
- 应结案 due: cases whose deadline (整改时限) falls in the period and that were not rejected by its end.
- 结案 due_closed: due cases closed (a ``close`` event) before the period ended; 结案率 = due_closed / due.
- 按期结案 due_on_time: due cases whose first close-out fell on or before the deadline day;
  按期结案率 = due_on_time / due.
- 本期结案 closed: cases with a close event in the period (also those due later).
- 逾期 overdue: cases still open at the period's end (their last event before it leaves them
  neither closed nor rejected) whose deadline day has passed by then (for the running month: by today).
- 返工 returned: ``return`` events (核查不通过) in the period.

Cases are those of an area (any level, by code prefix) or those dispatched to a unit; figures are
grouped by a member key: the code of the area's children (``member_len`` digits), or one total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from gis.periods import Period

FIGURES = text("""
WITH b AS (
  SELECT CAST(:d0 AS date) AS d0, CAST(:d1 AS date) AS d1,
         least(CAST(:d1 AS date), (now() AT TIME ZONE 'Asia/Shanghai')::date) AS dcut,
         (CAST(:d0 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai') AS t0,
         (CAST(:d1 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai') AS t1
), scoped AS (
  SELECT c.id, c.category, c.deadline, left(c.grid_code, :member_len) AS member FROM cases c
  WHERE (CAST(:area AS text) IS NULL OR left(c.grid_code, length(:area)) = :area)
    AND (CAST(:unit AS integer) IS NULL OR c.assignee_unit_id = :unit)
), per_case AS (
  SELECT s.id, s.category, s.deadline, s.member, b.d0, b.d1, b.dcut,
    bool_or(e.action = 'report' AND e.at >= b.t0) AS reported,
    bool_or(e.action = 'register' AND e.at >= b.t0) AS registered,
    bool_or(e.action = 'close' AND e.at >= b.t0) AS closed_in,
    count(*) FILTER (WHERE e.action = 'return' AND e.at >= b.t0) AS returns,
    min(e.at) FILTER (WHERE e.action = 'close') AS first_close,
    (array_agg(e.to_status ORDER BY e.at DESC, e.id DESC))[1] AS status_at_end
  FROM scoped s CROSS JOIN b JOIN case_event e ON e.case_id = s.id AND e.at < b.t1
  GROUP BY s.id, s.category, s.deadline, s.member, b.d0, b.d1, b.dcut
), flagged AS (
  SELECT p.*, p.deadline >= p.d0 AND p.deadline < p.d1 AND p.status_at_end <> 'rejected' AS due,
         p.status_at_end NOT IN ('closed', 'rejected') AS open_end,
         p.status_at_end NOT IN ('closed', 'rejected') AND p.deadline < p.dcut AS overdue
  FROM per_case p
), by_category AS (
  SELECT member, category, count(*) FILTER (WHERE reported) AS reported,
         count(*) FILTER (WHERE overdue) AS overdue
  FROM flagged GROUP BY member, category
)
SELECT f.member,
  count(*) FILTER (WHERE f.reported) AS reported,
  count(*) FILTER (WHERE f.registered) AS registered,
  count(*) FILTER (WHERE f.due) AS due,
  count(*) FILTER (WHERE f.due AND f.first_close IS NOT NULL) AS due_closed,
  count(*) FILTER (WHERE f.due AND (f.first_close AT TIME ZONE 'Asia/Shanghai')::date <= f.deadline) AS due_on_time,
  count(*) FILTER (WHERE f.closed_in) AS closed,
  count(*) FILTER (WHERE f.open_end) AS open_end,
  count(*) FILTER (WHERE f.overdue) AS overdue,
  coalesce(sum(f.returns), 0) AS returned,
  (SELECT coalesce(json_object_agg(bc.category, json_build_object('reported', bc.reported, 'overdue', bc.overdue)),
                   '{}')::text FROM by_category bc WHERE bc.member = f.member) AS categories
FROM flagged f GROUP BY f.member ORDER BY f.member
""")


def rate(part: int, whole: int) -> float | None:
    """A share in 0..1, or None when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass
class Figures:
    """The period figures of one member (a child area, or the whole)."""

    reported: int = 0
    registered: int = 0
    due: int = 0
    due_closed: int = 0
    due_on_time: int = 0
    closed: int = 0
    open_end: int = 0
    overdue: int = 0
    returned: int = 0
    categories: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def closure_rate(self) -> float | None:
        """结案率 = due_closed / due."""
        return rate(self.due_closed, self.due)

    @property
    def on_time_rate(self) -> float | None:
        """按期结案率 = due_on_time / due."""
        return rate(self.due_on_time, self.due)

    def add(self, other: Figures) -> None:
        """Add another member's figures (for totals)."""
        for name in (
            "reported",
            "registered",
            "due",
            "due_closed",
            "due_on_time",
            "closed",
            "open_end",
            "overdue",
            "returned",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, values in other.categories.items():
            mine = self.categories.setdefault(code, {"reported": 0, "overdue": 0})
            for key, value in values.items():
                mine[key] = mine.get(key, 0) + value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures with the two rates."""
        out = {k: v for k, v in self.__dict__.items() if k != "categories"}
        return out | {
            "closure_rate": self.closure_rate,
            "on_time_rate": self.on_time_rate,
            "categories": self.categories,
        }


def period_figures(
    conn: Connection, period: Period, *, area: str | None = None, unit_id: int | None = None, member_len: int = 0
) -> dict[str, Figures]:
    """Figures per member (children codes of ``member_len`` digits; ``""`` for one total)."""
    params = {"d0": period.start, "d1": period.end, "area": area, "unit": unit_id, "member_len": member_len}
    out: dict[str, Figures] = {}
    for row in conn.execute(FIGURES, params):
        values = {k: int(v) for k, v in row._mapping.items() if k not in ("member", "categories")}
        out[str(row.member)] = Figures(**values, categories=json.loads(row.categories))
    return out


def total_figures(conn: Connection, period: Period, *, area: str | None = None, unit_id: int | None = None) -> Figures:
    """One set of figures for the whole area (or unit)."""
    return period_figures(conn, period, area=area, unit_id=unit_id).get("", Figures())
