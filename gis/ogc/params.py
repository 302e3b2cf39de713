"""Query parameters of ``/items`` (查询参数), checked against the standard and the collection.

Unknown parameters are refused (a typo never passes silently); simple property filters are the
collection's queryables used as parameters (``status=closed``, what GDAL pushes to the server);
``limit`` above the maximum is clamped, as OGC clients ask for the declared maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, DateTime, Float, Text, bindparam, func, select

from gis.errors import InvalidParameter
from gis.ogc.cql import filter_condition
from gis.ogc.cql_parse import parse_filter
from gis.ogc.crs import envelope_values, parse_bbox_numbers, parse_ogc_crs, query_envelope
from gis.ogc.items import ItemsQuery
from gis.ogc.sources import Source

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
COMMON: Final[frozenset[str]] = frozenset(
    {"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs"}
)
MAX_OFFSET: Final = 10_000_000
Interval = tuple[datetime | None, datetime | None]
_TYPES: Final = {"integer": BigInteger, "number": Float, "boolean": Boolean, "date": Date, "date-time": DateTime}


def _single(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for key, value in items:
        if key in seen:
            raise InvalidParameter(key, f"参数 {key} 出现了不止一次。", f"Parameter {key} is given more than once.")
        seen[key] = value
    return seen


def check_known(params: dict[str, str], source: Source) -> None:
    """Refuse parameters that are neither standard nor a queryable of this collection."""
    simple = {k for k, q in source.queryables.items() if q.type != "geometry"}
    unknown = sorted(set(params) - COMMON - simple)
    if unknown:
        known = ", ".join(sorted(COMMON | simple))
        raise InvalidParameter(
            unknown[0],
            f"未知的查询参数：{', '.join(unknown)}（本图层不支持）。可用参数：{known}。",
            f"Unknown query parameter(s) for this collection: {', '.join(unknown)}. Known: {known}.",
            unknown=unknown,
        )


def parse_int(name: str, raw: str | None, default: int, low: int, high: int | None = None) -> int:
    """A whole number ``low..high`` (larger values of ``limit`` are clamped by the caller)."""
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidParameter(
            name, f"参数 {name} 须为整数，收到“{raw}”。", f"{name} must be an integer, got '{raw}'."
        ) from None
    if value < low or (high is not None and value > high):
        top = f"–{high}" if high is not None else " 以上"
        raise InvalidParameter(
            name,
            f"参数 {name} 须在 {low}{top} 之间。",
            f"{name} must be ≥ {low}" + (f" and ≤ {high}." if high else "."),
        )
    return value


def _end(raw: str, first: bool) -> datetime | None:
    text = raw.strip()
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            start = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=SHANGHAI)
            return start if first else start + timedelta(days=1) - timedelta(microseconds=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _bad_datetime(raw) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def _bad_datetime(raw: str) -> InvalidParameter:
    return InvalidParameter(
        "datetime",
        f"参数 datetime“{raw}”无效：应为时刻（2022-01-05T08:00:00Z）、日期（2022-01-05）或区间（起/止，开放端用 ..）。",
        f"datetime '{raw}' is invalid: use an instant (2022-01-05T08:00:00Z), a date (2022-01-05) or an interval "
        "(start/end, '..' for an open end).",
        value=raw,
    )


def parse_datetime(raw: str | None) -> Interval | None:
    """``datetime``: an instant, a date (its whole local day) or ``start/end`` with ``..`` open ends."""
    if raw is None:
        return None
    parts = raw.split("/")
    if len(parts) > 2 or (len(parts) == 2 and all(p.strip() in ("", "..") for p in parts)):
        raise _bad_datetime(raw)
    if len(parts) == 1:
        start, end = _end(parts[0], True), _end(parts[0], False)
        if start is None:
            raise _bad_datetime(raw)
        return start, end
    start, end = _end(parts[0], True), _end(parts[1], False)
    if start is not None and end is not None and start > end:
        raise _bad_datetime(raw)
    return start, end


def _simple_value(name: str, raw: str, kind: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            return {"true": True, "false": False}[raw.lower()]
        if kind == "date":
            return date.fromisoformat(raw)
        if kind == "date-time":
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, KeyError):
        raise InvalidParameter(
            name, f"参数 {name} 须为 {kind} 类型，收到“{raw}”。", f"{name} must be of type {kind}, got '{raw}'."
        ) from None
    return raw


def simple_filters(params: dict[str, str], source: Source) -> list[tuple[str, ColumnElement[bool], Any]]:
    """Equality filters from queryables given as parameters (``status=closed``): (name, condition, value).

    Each value is a bound parameter named by its position (``vm_eq0`` …), so the statement's text
    depends on which properties are filtered, not on the values.
    """
    found: list[tuple[str, ColumnElement[bool], Any]] = []
    for name, raw in params.items():
        q = source.queryables.get(name)
        if name in COMMON or q is None or q.type == "geometry":
            continue
        value = _simple_value(name, raw, q.type)
        if q.enum and value not in q.enum:
            raise InvalidParameter(
                name,
                f"参数 {name} 须为：{'、'.join(q.enum)}。",
                f"{name} must be one of: {', '.join(q.enum)}.",
                value=raw,
            )
        bound: ColumnElement[Any] = bindparam(f"vm_eq{len(found)}", value, _TYPES.get(q.type, Text))
        found.append((name, q.expr == bound, value))
    return found


def items_query(
    items: Sequence[tuple[str, str]], source: Source, limits: tuple[int, int], max_vertices: int
) -> ItemsQuery:
    """Every ``/items`` parameter, checked, as an :class:`ItemsQuery`."""
    params = _single(items)
    check_known(params, source)
    default_limit, max_limit = limits
    limit = min(parse_int("limit", params.get("limit"), default_limit, 1), max_limit)
    offset = parse_int("offset", params.get("offset"), 0, 0, MAX_OFFSET)
    simple = simple_filters(params, source)
    conditions = [condition for _name, condition, _value in simple]
    shape: list[Any] = [("eq", name) for name, _condition, _value in simple]
    values: dict[str, Any] = {f"vm_eq{i}": value for i, (_name, _condition, value) in enumerate(simple)}
    spatial = False
    near = None
    if "bbox" in params:
        box_crs = parse_ogc_crs("bbox-crs", params.get("bbox-crs"))
        box = parse_bbox_numbers(params["bbox"], box_crs)
        envelope = query_envelope(box, box_crs)
        conditions.append(func.ST_Intersects(source.geom, envelope))
        near = select(func.ST_Centroid(envelope)).scalar_subquery()
        shape.append(("bbox", box_crs.uri))
        values |= envelope_values(box, box_crs)
        spatial = True
    elif "bbox-crs" in params:
        parse_ogc_crs("bbox-crs", params["bbox-crs"])
    if "filter" not in params and "filter-lang" in params:
        parse_filter("true", params["filter-lang"])
    if "filter" in params:
        filter_crs = parse_ogc_crs("filter-crs", params.get("filter-crs"))
        condition, is_spatial = filter_condition(
            params["filter"], params.get("filter-lang"), source.queryables, filter_crs, max_vertices
        )
        conditions.append(condition)
        spatial = spatial or is_spatial
    crs = parse_ogc_crs("crs", params.get("crs"))
    interval = parse_datetime(params.get("datetime"))
    reusable = None if "filter" in params else tuple(shape)  # a CQL2 filter carries its own literals
    return ItemsQuery(
        limit, offset, tuple(conditions), spatial, crs, interval, shape=reusable, values=values, near=near
    )
