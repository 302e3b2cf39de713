"""Field names in and out (字段对照): full names, Chinese headers, Shapefile's 10-byte names.

Every exported field has one English name (GeoJSON, GeoPackage, KML), one Chinese header (CSV,
XLSX) and one short ASCII name of at most 10 bytes (Shapefile's dBASE limit); docs/office.md lists
them. On import a column is recognised by any of these or a common synonym (经度/lon/lng/x …),
compared after trimming, lower-casing and dropping spaces and bracketed notes (``经度（WGS84）``).
"""

from __future__ import annotations

import re
from typing import Final

#: (full name, 中文表头, Shapefile name) of every exported case field, in column order.
EXPORT_FIELDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("code", "编号", "code"),
    ("category", "问题类别代码", "category"),
    ("category_label", "问题类型", "cat_label"),
    ("subtype", "子类", "subtype"),
    ("title", "标题", "title"),
    ("description", "问题描述", "descr"),
    ("status", "状态代码", "status"),
    ("status_label", "状态", "stat_label"),
    ("reported_at", "发现时间", "reported"),
    ("deadline", "整改时限", "deadline"),
    ("closed_at", "销号时间", "closed"),
    ("review_on", "复查日期", "review_on"),
    ("overdue", "是否逾期", "overdue"),
    ("county_code", "区县代码", "county"),
    ("township_code", "乡镇代码", "township"),
    ("township_name", "乡镇", "town_name"),
    ("village_code", "村代码", "village"),
    ("village_name", "村", "vill_name"),
    ("grid_code", "网格", "grid"),
    ("lead_unit", "牵头单位", "lead_unit"),
    ("responsible_units", "责任单位", "resp_units"),
    ("assignee_unit", "处置单位", "assignee"),
    ("external_id", "外部编号", "ext_id"),
    ("location_approximate", "位置为村级近似", "approx"),
    ("attributes", "附加属性", "attrs"),
)
SHAPEFILE_NAMES: Final[dict[str, str]] = {full: short for full, _zh, short in EXPORT_FIELDS}
CHINESE_HEADERS: Final[dict[str, str]] = {full: zh for full, zh, _short in EXPORT_FIELDS}

#: Import targets and the names that mean them (besides the export names above).
SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "external_id": ("编号", "外部编号", "案件编号", "问题编号", "台账编号", "id", "external_id", "ext_id", "code"),
    "category": ("问题类型", "问题类别", "类别", "类型", "问题类别代码", "category", "cat_label", "type", "kind"),
    "subtype": ("子类", "问题子类", "小类", "subtype"),
    "title": ("标题", "名称", "问题名称", "title", "name"),
    "description": ("问题描述", "描述", "问题情况", "description", "descr", "desc"),
    "township_name": ("乡镇", "乡（镇）", "所属乡镇", "town_name", "township_name"),
    "village_name": ("村", "行政村", "村庄", "所属村", "vill_name", "village_name"),
    "village_code": ("村代码", "村编码", "行政村代码", "统计用区划代码", "village", "village_code", "nbs_code"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x", "东经"),
    "lat": ("纬度", "lat", "latitude", "y", "北纬"),
    "wkt": ("几何", "几何wkt", "wkt", "geometry", "geom"),
    "reported_at": ("发现时间", "上报时间", "发现日期", "时间", "reported_at", "reported", "date"),
    "deadline": ("整改时限", "整改期限", "完成时限", "deadline"),
    "lead_unit": ("牵头单位", "lead_unit"),
    "responsible_units": ("责任单位", "responsible_units", "resp_units"),
    "progress": ("整改措施及进展", "整改措施", "整改进展", "进展情况", "progress"),
    "status": ("状态", "整改状态", "销号状态", "状态代码", "status", "stat_label", "status_label"),
    "closed_at": ("销号时间", "结案时间", "closed_at", "closed"),
    "inspector": ("核查人", "验收人", "inspector"),
    "review_on": ("复查日期", "review_on"),
    "attributes": ("附加属性", "attributes", "attrs"),
    "edge": ("六边", "edge"),
    "supervision_level": ("监管级别", "supervision_level"),
    "occupied": ("是否住人", "occupied"),
}
#: Columns that are read but not imported (row numbers, derived codes, photo columns).
IGNORED: Final[frozenset[str]] = frozenset(
    {
        "序号",
        "no",
        "fid",
        "网格",
        "grid",
        "grid_code",
        "区县代码",
        "county",
        "county_code",
        "乡镇代码",
        "township",
        "township_code",
        "是否逾期",
        "overdue",
        "位置为村级近似",
        "approx",
        "location_approximate",
        "处置单位",
        "assignee",
        "assignee_unit",
        "整改前",
        "整改后",
        "状态代码",
    }
)
#: Category attributes that have a column of their own.
ATTRIBUTE_TARGETS: Final[frozenset[str]] = frozenset({"edge", "supervision_level", "occupied"})

_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")


def normalise(name: str) -> str:
    """A header as compared: trimmed, lower case, no spaces, no bracketed notes."""
    return re.sub(r"\s+", "", _BRACKETS.sub("", str(name))).lower()


_LOOKUP: Final[dict[str, str]] = {normalise(n): target for target, names in SYNONYMS.items() for n in names}


def match_columns(columns: list[str], explicit: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Map file columns to import targets: ``({column: target}, unrecognised columns)``.

    ``explicit`` (column → target) wins over recognition. Where two columns mean the same target
    the first one wins, except that an explicit mapping always does.
    """
    explicit = explicit or {}
    mapping: dict[str, str] = {}
    taken: set[str] = set(explicit.values())
    unknown = []
    for column in columns:
        if column in explicit:
            mapping[column] = explicit[column]
            continue
        key = normalise(column)
        target = _LOOKUP.get(key)
        if target is not None and target not in taken:
            mapping[column] = target
            taken.add(target)
        elif target is None and key not in IGNORED:
            unknown.append(column)
    return mapping, unknown


def parse_mapping(raw: str | None) -> dict[str, str]:
    """``源字段=目标,源2=目标2`` (or ``:``) → {source: target}; targets are checked by the caller."""
    out: dict[str, str] = {}
    for part in re.split(r"[,，;；]", raw or ""):
        if not part.strip():
            continue
        source, sep, target = re.split(r"([=:：])", part, maxsplit=1) if re.search(r"[=:：]", part) else (part, "", "")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(part.strip())
        out[source.strip()] = target.strip()
    return out
