"""Query filters (查询条件) shared by the read paths: bbox, lists, areas, paging limits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gis.errors import InvalidParameter

AREA_CODE_LENGTHS = {6: "county", 9: "township", 12: "village", 15: "grid"}


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in EPSG:4326 (经纬度范围): west, south, east, north."""

    west: float
    south: float
    east: float
    north: float


def _bbox_error(zh: str, en: str, raw: str) -> InvalidParameter:
    return InvalidParameter(
        "bbox",
        f"参数 bbox“{raw}”无效：{zh}格式为 西经度,南纬度,东经度,北纬度（如 106.60,38.86,106.63,38.88）。",
        f"bbox '{raw}' is invalid: {en} Use west,south,east,north in degrees (e.g. 106.60,38.86,106.63,38.88).",
        value=raw,
    )


def _parse_numbers(raw: str) -> list[float]:
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 4:
        raise _bbox_error(f"需要 4 个数，收到 {len(parts)} 个。", f"expected 4 numbers, got {len(parts)}.", raw)
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise _bbox_error("包含非数字。", "it contains something that is not a number.", raw) from None
    if not all(math.isfinite(v) for v in values):
        raise _bbox_error("不能包含 NaN 或无穷大。", "NaN and Infinity are not allowed.", raw)
    return values


def parse_bbox(raw: str) -> BBox:
    """Parse ``west,south,east,north``; refuse out-of-range, inverted or lat/lon-swapped boxes."""
    west, south, east, north = _parse_numbers(raw)
    if any(abs(v) > 90 for v in (south, north)) and all(abs(v) <= 90 for v in (west, east)):
        raise _bbox_error(
            "纬度超出 ±90°，疑似经纬度顺序颠倒（应先经度后纬度）。",
            "latitude is beyond ±90°: longitude and latitude look swapped (longitude comes first).",
            raw,
        )
    if any(abs(v) > 180 for v in (west, east)) or any(abs(v) > 90 for v in (south, north)):
        raise _bbox_error(
            "经度须在 ±180° 内、纬度须在 ±90° 内。",
            "longitude must be within ±180° and latitude within ±90°.",
            raw,
        )
    if west > east or south > north:
        raise _bbox_error(
            "西边界大于东边界或南边界大于北边界。",
            "west is greater than east or south is greater than north.",
            raw,
        )
    return BBox(west, south, east, north)


_LIST_ITEM = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse_codes(parameter: str, raw: str | None) -> tuple[str, ...]:
    """A comma-separated list of lower-case codes (category, status), de-duplicated, in order."""
    if raw is None or raw.strip() == "":
        return ()
    items = [p.strip() for p in raw.split(",") if p.strip()]
    for item in items:
        if not _LIST_ITEM.match(item):
            raise InvalidParameter(
                parameter,
                f"参数 {parameter} 中的“{item}”格式不对：应为小写英文代码，多个用逗号分隔。",
                f"{parameter}: '{item}' is not a code; use lower-case codes separated by commas.",
                value=item,
            )
    return tuple(dict.fromkeys(items))


def area_level(code: str, parameter: str = "area") -> str:
    """Which level an area code names, from its length (DESIGN §9); refuse anything else."""
    level = AREA_CODE_LENGTHS.get(len(code))
    if level is None or not code.isdigit():
        raise InvalidParameter(
            parameter,
            f"区域代码“{code}”格式不对：应为 6 位（区县）、9 位（乡镇）、12 位（村）或 15 位（网格）数字。",
            f"area code '{code}' is malformed: use 6 (county), 9 (township), 12 (village) or 15 (grid) digits.",
            value=code,
        )
    return level


def clamp_limit(limit: int, maximum: int) -> int:
    """A page size within 1..maximum: larger requests are clamped, as OGC clients expect."""
    if limit < 1:
        raise InvalidParameter(
            "limit",
            f"参数 limit 须为正整数（1–{maximum}），收到 {limit}。",
            f"limit must be a positive integer (1–{maximum}); got {limit}.",
            value=limit,
        )
    return min(limit, maximum)
