"""Units (牵头单位、责任单位) of the two pilot counties, from seed 003 and seed 000.

Litong's departments are named in its 2022 task table (seed 003); 渠口乡's sanitation contractor
二泉公司 in its winter-campaign plan (seed 000). Pingluo's departments carry their usual names.
Every township government is a unit too (各乡镇), generated from the regions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class UnitRow:
    """One unit as loaded: a stable code, its name and kind, and the area it serves."""

    code: str
    name: str
    kind: str
    area_code: str | None
    name_en: str | None = None


COUNTY_UNITS: tuple[UnitRow, ...] = (
    UnitRow("640302-nyncj", "利通区农业农村局", "department", "640302", "Agriculture and Rural Affairs Bureau"),
    UnitRow("640302-swj", "利通区水务局", "department", "640302", "Water Affairs Bureau"),
    UnitRow("640302-zjjtj", "利通区住房城乡建设和交通局", "department", "640302", "Housing, Construction and Transport Bureau"),
    UnitRow("640302-sthj", "吴忠市生态环境局利通分局", "department", "640302", "Ecology and Environment Bureau, Litong Branch"),
    UnitRow("640302-hwzx", "利通区城乡环境卫生管理中心", "department", "640302", "Urban-Rural Sanitation Centre"),
    UnitRow("640302-zrzyj", "利通区自然资源局", "department", "640302", "Natural Resources Bureau"),
    UnitRow("640302-baojie", "利通区农村保洁服务公司（示例）", "contractor", "640302", "sanitation contractor (sample)"),
    UnitRow("640221-nyncj", "平罗县农业农村局", "department", "640221", "Agriculture and Rural Affairs Bureau"),
    UnitRow("640221-swj", "平罗县水务局", "department", "640221", "Water Affairs Bureau"),
    UnitRow("640221-zjj", "平罗县住房和城乡建设局", "department", "640221", "Housing and Construction Bureau"),
    UnitRow("640221-jtj", "平罗县交通运输局", "department", "640221", "Transport Bureau"),
    UnitRow("640221-sthj", "石嘴山市生态环境局平罗分局", "department", "640221", "Ecology and Environment Bureau, Pingluo Branch"),
    UnitRow("640221202-erquan", "二泉公司", "contractor", "640221202", "Erquan sanitation company"),
    UnitRow("640221-baojie", "平罗县农村保洁服务公司（示例）", "contractor", "640221", "sanitation contractor (sample)"),
)  # fmt: skip


def township_units(townships: Iterable[tuple[str, str]]) -> list[UnitRow]:
    """One government unit per township (乡镇人民政府), from ``(code, name)`` pairs."""
    rows = []
    for code, name in townships:
        suffix = "" if name.endswith(("管委会", "农场", "开发区")) else "人民政府"
        rows.append(UnitRow(f"{code}-gov", f"{name}{suffix}", "township_gov", code))
    return rows


def all_units(townships: Iterable[tuple[str, str]]) -> list[UnitRow]:
    """Every unit of the sample: county departments, contractors and township governments."""
    return [*COUNTY_UNITS, *township_units(townships)]


def lead_unit_code(category: str, county: str, township: str) -> str:
    """Who leads the work on a problem of this category (牵头单位), per the seeds' task table."""
    by_category = {
        "black_odorous_water": f"{county}-sthj",
        "household_toilet": f"{county}-nyncj",
        "agri_waste": f"{county}-nyncj",
    }
    return by_category.get(category, f"{township}-gov")


def assignee_unit_code(category: str, county: str, township: str) -> str:
    """Who is dispatched to fix it (处置单位): garbage goes to the sanitation contractor."""
    if category == "garbage_point":
        return "640221202-erquan" if township == "640221202" else f"{county}-baojie"
    if category == "black_odorous_water":
        return f"{county}-swj"
    return f"{township}-gov"
