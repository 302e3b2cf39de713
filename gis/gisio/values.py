"""Cell values of imported rows (导入取值): categories, statuses, dates and identifiers.

Each reader works on a whole column at once: distinct values are looked up once, so a million
rows cost a dictionary lookup each. A value that means nothing is an error naming the row, the
column and what would be accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

from gis.gisio.report import ImportReport
from gis.lifecycle import CASE_STATUSES

ObjectArray = NDArray[np.object_]
#: Columns at least this long are read with pandas' vectorised string methods when all text.
VECTORISED_FROM: Final = 10_000

STATUS_WORDS: Final[dict[str, str]] = {
    **{code: code for code in CASE_STATUSES},
    **{zh: code for code, (zh, _en) in CASE_STATUSES.items()},
    **{en: code for code, (_zh, en) in CASE_STATUSES.items()},
    "已销号": "closed",
    "销号": "closed",
    "已结案": "closed",
    "结案": "closed",
    "已整改": "closed",
    "已完成": "closed",
    "完成": "closed",
    "整改完成": "closed",
    "整改中": "in_progress",
    "正在整改": "in_progress",
    "处置中": "in_progress",
    "未整改": "registered",
    "待整改": "registered",
    "未开始": "registered",
    "已立案": "registered",
    "已派遣": "assigned",
    "已交办": "assigned",
    "处置完毕": "resolved",
    "待核查": "resolved",
    "待验收": "resolved",
    "已上报": "reported",
    "新发现": "reported",
    "不予立案": "rejected",
    "挂账": "suspended",
    "暂缓": "suspended",
}


@dataclass(frozen=True)
class CategoryInfo:
    """What an import needs to know of a problem category."""

    code: str
    label_zh: str
    label_en: str
    aliases: tuple[str, ...]
    subtypes: tuple[str, ...]
    geometry_types: tuple[str, ...]
    attributes: dict[str, Any]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def by_distinct(values: ObjectArray, convert: Any) -> ObjectArray:
    """Apply ``convert`` once per distinct value and spread the results over the rows."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate([*uniques, None]):
        mapped[i] = convert(value)
    out: ObjectArray = mapped[codes]
    return out


def _text(value: Any, limit: int | None) -> str | None:
    if not _present(value):
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    return text[:limit] if limit else text


def all_text(values: ObjectArray) -> bool:
    """True when every value is a string or missing (None/NaN): such columns are read vectorised."""
    return bool(pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"))


def text_column(values: ObjectArray | None, n: int, limit: int | None = None) -> ObjectArray:
    """Values as trimmed text (None when empty); numbers like 12.0 become ``12``."""
    if values is None:
        return np.full(n, None, dtype=object)
    if len(values) < VECTORISED_FROM or not all_text(values):
        return by_distinct(values, lambda v: _text(v, limit))
    text = pd.Series(values, dtype=object).str.strip()
    if limit:
        text = text.str.slice(0, limit)
    out: ObjectArray = text.to_numpy(dtype=object, copy=True)
    out[pd.isna(out) | (out == "")] = None
    return out


def present(values: ObjectArray) -> NDArray[np.bool_]:
    """Which cells hold something (not None, NaN or blank text)."""
    if len(values) < VECTORISED_FROM or not all_text(values):
        mask: NDArray[np.bool_] = by_distinct(values, _present).astype(bool)
        return mask
    text = pd.Series(values, dtype=object).str.strip()
    filled: NDArray[np.bool_] = (text.str.len() > 0).to_numpy(dtype=bool)
    return filled


def category_lookup(categories: list[CategoryInfo]) -> dict[str, tuple[str, str | None]]:
    """Every word that names a category (code, labels, aliases, subtypes) → (code, subtype)."""
    words: dict[str, tuple[str, str | None]] = {}
    counts: dict[str, int] = {}
    for c in categories:
        for sub in c.subtypes:
            counts[sub] = counts.get(sub, 0) + 1
    for c in categories:
        for sub in c.subtypes:
            if counts[sub] == 1:
                words.setdefault(sub.lower(), (c.code, sub))
    for c in categories:
        for word in (c.code, c.label_zh, c.label_en, *c.aliases):
            words[word.strip().lower()] = (c.code, None)
    return words


def read_categories(
    values: ObjectArray, rows: NDArray[np.int64], column: str, categories: list[CategoryInfo], report: ImportReport
) -> tuple[ObjectArray, ObjectArray]:
    """Category codes and implied subtypes of a column of labels, codes or subtypes."""
    lookup = category_lookup(categories)
    found = by_distinct(values, lambda v: lookup.get(str(v).strip().lower(), ("?", None)) if _present(v) else None)
    codes = by_distinct(found, lambda f: f[0] if f else None)
    subs = by_distinct(found, lambda f: f[1] if f else None)
    known = "、".join(c.label_zh for c in categories)
    for i in np.flatnonzero(codes == None):  # noqa: E711 (element-wise)
        report.error(int(rows[i]), column, "missing_category", "缺少问题类型。", "The category is missing.")
    for i in np.flatnonzero(codes == "?"):
        report.error(
            int(rows[i]),
            column,
            "unknown_category",
            f"未知的问题类型“{values[i]}”；可用：{known}。",
            f"Unknown category '{values[i]}'; use one of: {', '.join(c.code for c in categories)}.",
        )
    codes[codes == "?"] = None
    return codes, subs


def read_statuses(
    values: ObjectArray | None, rows: NDArray[np.int64], column: str, report: ImportReport
) -> ObjectArray:
    """Status codes from codes, Chinese labels or the usual ledger words (已销号, 整改中 …)."""
    if values is None:
        return np.full(len(rows), "reported", dtype=object)

    def code(value: Any) -> str | None:
        if not _present(value):
            return "reported"
        return STATUS_WORDS.get(str(value).strip()) or STATUS_WORDS.get(str(value).strip().lower())

    out = by_distinct(values, code)
    for i in np.flatnonzero(out == None):  # noqa: E711 (element-wise)
        report.error(
            int(rows[i]),
            column,
            "unknown_status",
            f"无法识别的状态“{values[i]}”（如 已销号、整改中、未整改）。",
            f"Unknown status '{values[i]}' (e.g. closed, in_progress, registered).",
        )
    return out


_CN_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(.*)$")


def _date_text(value: Any) -> Any:
    if isinstance(value, str):
        match = _CN_DATE.match(value)
        if match:
            return f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}{match.group(4)}"
        return value.replace("/", "-").replace(".", "-") if re.match(r"^\d{4}[/.]\d", value) else value
    return value


def read_times(values: ObjectArray | None, rows: NDArray[np.int64], column: str, report: ImportReport) -> pd.Series:
    """Timestamps (Asia/Shanghai when no zone is given); unreadable values are errors (NaT)."""
    if values is None:
        return pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[ns, Asia/Shanghai]")
    out = _iso_fast(values)
    if out is None:
        stamps = by_distinct(values, lambda v: _one_time(_date_text(v)) if _present(v) else pd.NaT)
        out = pd.Series(list(stamps), dtype="datetime64[ns, Asia/Shanghai]")
    for i in np.flatnonzero(out.isna().to_numpy() & present(values)):
        report.error(
            int(rows[i]),
            column,
            "bad_date",
            f"“{values[i]}”不是日期（如 2022-01-05 或 2022年1月5日）。",
            f"'{values[i]}' is not a date (e.g. 2022-01-05).",
        )
    return out


def _iso_fast(values: ObjectArray) -> pd.Series | None:
    """All values ISO 8601 text with one kind of zone: parsed in one vectorised pass, else None."""
    if not all(isinstance(v, str) for v in values[:1000]):
        return None
    try:
        parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
    except (ValueError, TypeError):
        return None
    if parsed.dt.tz is None:
        return parsed.dt.tz_localize("Asia/Shanghai").astype("datetime64[ns, Asia/Shanghai]")
    return parsed.dt.tz_convert("Asia/Shanghai").astype("datetime64[ns, Asia/Shanghai]")


def _one_time(text: Any) -> pd.Timestamp:
    if text is None:
        return pd.NaT
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if stamp is pd.NaT:
        return pd.NaT
    return stamp.tz_localize("Asia/Shanghai") if stamp.tzinfo is None else stamp.tz_convert("Asia/Shanghai")
