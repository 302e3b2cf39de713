"""CQL2 literals as Python values (CQL2 字面量): plain values by property type, dates, timestamps
and intervals; a date covers its whole local day in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from gis.ogc.cql_parse import bad_filter

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")


def coerce_literal(node: Any, kind: str) -> Any:
    """A plain CQL2 literal as the Python value of the property type ``kind`` asks for."""
    if isinstance(node, dict) and "timestamp" in node:
        return timestamp(node["timestamp"])
    if isinstance(node, dict) and "date" in node:
        return day(node["date"])
    if isinstance(node, dict | list):
        raise bad_filter("此处需要一个简单值。", "a plain value is expected here.")
    try:
        return _as_kind(node, kind)
    except (TypeError, ValueError):
        raise bad_filter(
            f"值 {node!r} 与属性类型 {kind} 不符。", f"value {node!r} does not match type {kind}."
        ) from None


def _as_kind(node: Any, kind: str) -> Any:
    if node is None:
        return None
    if kind == "integer":
        number = float(node)
        if not number.is_integer():
            raise ValueError(node)
        return int(number)
    if kind == "number":
        return float(node)
    if kind == "boolean":
        if not isinstance(node, bool):
            raise ValueError(node)
        return node
    if kind in ("date", "date-time"):
        return day(node) if kind == "date" else timestamp(node)
    if not isinstance(node, str):
        raise ValueError(node)
    return node


def timestamp(raw: Any) -> datetime:
    """A CQL2 timestamp (ISO 8601, ``Z`` allowed)."""
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise bad_filter(
            f"时间“{raw}”格式不对（应为 2022-01-01T08:00:00Z）。", f"'{raw}' is not a timestamp."
        ) from None


def day(raw: Any) -> date:
    """A CQL2 date (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise bad_filter(f"日期“{raw}”格式不对（应为 2022-01-01）。", f"'{raw}' is not a date (YYYY-MM-DD).") from None


def time_span(node: Any) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a CQL2 instant, date or interval; a date covers its whole local day."""
    if isinstance(node, dict) and "interval" in node and len(node["interval"]) == 2:
        first, last = (None if x in ("..", "", None) else str(x) for x in node["interval"])
        return (_instant(first)[0] if first else None), (_instant(last)[1] if last else None)
    raw = node.get("timestamp") or node.get("date") if isinstance(node, dict) else node
    return _instant(str(raw))


def _instant(text: str) -> tuple[datetime, datetime]:
    if len(text) == 10:
        start = datetime.combine(day(text), datetime.min.time(), tzinfo=SHANGHAI)
        return start, start + timedelta(days=1) - timedelta(microseconds=1)
    moment = timestamp(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment, moment
