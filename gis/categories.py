"""Categories (问题类别) as data: what a category allows, and checking a report against it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from gis import tables as t
from gis.errors import InvalidField


@dataclass(frozen=True)
class Category:
    """One category row, as the write paths need it."""

    code: str
    kind: str
    label_zh: str
    label_en: str
    geometry_types: tuple[str, ...]
    closeout_radius_m: float
    duplicate_radius_m: float
    accuracy_limit_m: float
    default_deadline_days: int | None
    private_location: bool
    subtypes: tuple[str, ...]
    attributes: dict[str, Any]
    closeout_rules: dict[str, Any]


def load_category(conn: Connection, code: str, kind: str = "problem") -> Category:
    """The category ``code`` of ``kind``; an unknown one is refused (422) with the valid codes."""
    cat = t.category
    row = conn.execute(select(cat).where(cat.c.code == code, cat.c.kind == kind)).one_or_none()
    if row is None:
        valid = conn.execute(select(cat.c.code).where(cat.c.kind == kind).order_by(cat.c.sort_order)).scalars()
        names = ", ".join(valid)
        raise InvalidField(
            "category",
            f"未知的问题类别“{code}”。可用类别：{names}。",
            f"Unknown category '{code}'. Valid categories: {names}.",
            value=code,
        )
    return Category(
        row.code, row.kind, row.label_zh, row.label_en, tuple(row.geometry_types), float(row.closeout_radius_m),
        float(row.duplicate_radius_m), float(row.accuracy_limit_m), row.default_deadline_days,
        bool(row.private_location), tuple(row.subtypes), dict(row.attributes), dict(row.closeout_rules),
    )  # fmt: skip


def check_subtype(category: Category, subtype: str | None) -> None:
    """A subtype, when given, must be one of the category's (e.g. 六堆 for garbage points)."""
    if subtype is not None and subtype not in category.subtypes:
        allowed = "、".join(category.subtypes)
        raise InvalidField(
            "subtype",
            f"“{subtype}”不是{category.label_zh}的子类。可选：{allowed}。",
            f"'{subtype}' is not a subtype of {category.label_en}. Choose one of: {', '.join(category.subtypes)}.",
            value=subtype,
        )


def check_attributes(category: Category, attributes: dict[str, Any]) -> None:
    """Attributes must be the category's own (e.g. ``edge`` 六边) with allowed values."""
    for key, value in attributes.items():
        spec = category.attributes.get(key)
        if spec is None:
            known = ", ".join(category.attributes) or "（无 none）"
            raise InvalidField(
                f"attributes.{key}",
                f"{category.label_zh}没有属性“{key}”。可用属性：{known}。",
                f"{category.label_en} has no attribute '{key}'. Known: {known}.",
            )
        _check_value(f"attributes.{key}", spec, value)


def _check_value(field: str, spec: dict[str, Any], value: Any) -> None:
    kind = spec.get("type")
    label = spec.get("label_zh", field)
    if kind == "choice" and value not in spec.get("values", []):
        allowed = "、".join(str(v) for v in spec.get("values", []))
        raise InvalidField(field, f"{label}须为：{allowed}。", f"{field} must be one of: {allowed}.", value=value)
    if kind == "boolean" and not isinstance(value, bool):
        raise InvalidField(field, f"{label}须为 true 或 false。", f"{field} must be true or false.", value=value)
    if kind == "number" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value))
    ):
        raise InvalidField(field, f"{label}须为有限的数字。", f"{field} must be a finite number.", value=value)
