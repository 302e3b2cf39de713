"""Rules across the columns of an imported row (行内规则), and times as COPY sends them.

A closed row needs its close-out time (销号时间), a suspended one its review date (复查日期); no time
may lie in the future, and a case cannot be closed before it was reported. A close-out time on a
row that is not closed is ignored with a warning.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

from gis.gisio.report import ImportReport

LABELS: Final = {"closed_at": "销号时间", "review_on": "复查日期", "reported_at": "发现时间"}
Check = tuple[NDArray[np.bool_], str, str, str, str]


def _checks(cols: dict[str, Any]) -> list[Check]:
    status, reported, closed = cols["status"], cols["reported_at"], cols["closed_at"]
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    return [
        ((status == "closed") & closed.isna().to_numpy(), "closed_at", "missing_closed_at",
         "状态为已销号，但缺少销号时间。", "The row is closed but has no close-out time (销号时间)."),
        ((status == "suspended") & cols["review_on"].isna().to_numpy(), "review_on", "missing_review_on",
         "状态为挂账，但缺少复查日期。", "The row is suspended but has no review date (复查日期)."),
        ((reported > now).to_numpy(), "reported_at", "future", "发现时间晚于现在。",
         "The report time is in the future."),
        ((closed > now).to_numpy(), "closed_at", "future", "销号时间晚于现在。",
         "The close-out time is in the future."),
        ((closed < reported).to_numpy(), "closed_at", "closed_before_reported", "销号时间早于发现时间。",
         "The close-out time is before the report time."),
    ]  # fmt: skip


def check_rules(cols: dict[str, Any], report: ImportReport) -> None:
    """Report every row that breaks a rule across its columns."""
    rows = cols["row"]
    for mask, column, code, zh, en in _checks(cols):
        for row in rows[mask]:
            report.error(int(row), LABELS[column], code, zh, en)
    stray = (cols["status"] != "closed") & ~cols["closed_at"].isna().to_numpy()
    for row in rows[stray]:
        report.warn(int(row), "销号时间", "ignored_closed_at", "未销号的行填写了销号时间，已忽略。",
                    "A close-out time on a row that is not closed; ignored.")  # fmt: skip


def epoch_us(series: pd.Series) -> NDArray[np.int64]:
    """Timestamps as microseconds since 1970 UTC (NaT → the smallest int64, sent as NULL)."""
    values: NDArray[np.int64] = series.dt.tz_convert("UTC").to_numpy(dtype="datetime64[us]").astype(np.int64)
    return values


def local_days(series: pd.Series) -> NDArray[np.int64]:
    """The local calendar day of each timestamp as days since 1970-01-01 (NaT → smallest int64)."""
    naive: NDArray[np.int64] = series.dt.tz_localize(None).to_numpy(dtype="datetime64[D]").astype(np.int64)
    return naive


def report_years(series: pd.Series) -> NDArray[np.int64]:
    """The local (Asia/Shanghai) year of each report time, this year when there is none (编号年份)."""
    now = pd.Timestamp.now(tz="Asia/Shanghai").year
    years: NDArray[np.int64] = series.dt.year.fillna(now).to_numpy(dtype=np.int64)
    return years
