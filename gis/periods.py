"""Reporting periods (统计周期): months (2022-01) and ISO weeks (2022-W01, Monday first).

A period is a half-open range of local calendar dates ``[start, end)`` in Asia/Shanghai (DESIGN §6):
a month runs from its first day to the first day of the next; an ISO week from Monday to the next
Monday. Timestamps are compared against local midnight of those dates, in SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gis.errors import InvalidParameter

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A reporting period (统计周期): ``kind`` month or week, local dates ``[start, end)``."""

    kind: str
    label: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        """The last day inside the period."""
        return self.end - timedelta(days=1)

    @property
    def label_zh(self) -> str:
        """Chinese label: 2022年1月 or 2022年第1周."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        year, week, _ = self.start.isocalendar()
        return f"{year}年第{week}周"


def iso_week_label(day: date) -> str:
    """The ISO week a day falls in, as ``2022-W01``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_period(label: str, parameter: str = "month") -> Period:
    """``2022-01`` → the month; anything else is refused with the expected form."""
    match = _MONTH.match(label.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidParameter(
            parameter,
            f"参数 {parameter}“{label}”格式不对：应为年月，如 2022-01。",
            f"{parameter} '{label}' is malformed: use year-month, e.g. 2022-01.",
            value=label,
        )
    start = date(int(match.group(1)), int(match.group(2)), 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return Period("month", f"{start.year:04d}-{start.month:02d}", start, end)


def week_period(label: str, parameter: str = "week") -> Period:
    """``2022-W01`` → that ISO week (Monday to Sunday)."""
    match = _WEEK.match(label.strip())
    try:
        if not match:
            raise ValueError(label)
        start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise InvalidParameter(
            parameter,
            f"参数 {parameter}“{label}”格式不对：应为 ISO 周，如 2022-W01（周一为一周的第一天）。",
            f"{parameter} '{label}' is malformed: use an ISO week such as 2022-W01 (weeks start on Monday).",
            value=label,
        ) from None
    return Period("week", iso_week_label(start), start, start + timedelta(days=7))


def parse_period(label: str, parameter: str = "period") -> Period:
    """A month (``2022-01``) or an ISO week (``2022-W03``)."""
    if "W" in label.upper():
        return week_period(label.upper(), parameter)
    return month_period(label, parameter)


def current_month(now: datetime | None = None) -> Period:
    """The month containing ``now`` (local time)."""
    local = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    return month_period(f"{local.year:04d}-{local.month:02d}")


def previous_months(period: Period, count: int) -> list[Period]:
    """The ``count`` months ending with ``period``'s month, oldest first."""
    months = []
    year, month = period.start.year, period.start.month
    for _ in range(count):
        months.append(month_period(f"{year:04d}-{month:02d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]
