"""Filter checks folded into the read statement (参数校验): unknown areas and categories.

A read is one SQL statement; these expressions ride along with it so an unknown code is reported
as a clear 400 rather than an empty page, without a second round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, exists, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from gis import tables as t
from gis.errors import unknown


def area_exists(area: str | None) -> ColumnElement[bool]:
    """True when no area is asked for, or the code names a region."""
    if area is None:
        return literal(True)
    return exists().where(t.region.c.code == area)


def unknown_categories(codes: tuple[str, ...], kind: str) -> ColumnElement[Any]:
    """The asked-for category codes that are not categories of ``kind`` (NULL when none)."""
    if not codes:
        return literal(None, ARRAY(Text))
    wanted = func.unnest(literal(list(codes), ARRAY(Text))).table_valued("value").render_derived(name="wanted")
    known = select(t.category.c.code).where(t.category.c.kind == kind)
    return select(func.array_agg(wanted.c.value)).where(wanted.c.value.not_in(known)).scalar_subquery()


@dataclass(frozen=True)
class FilterCheck:
    """What the statement said about the filters, raised as domain errors when wrong."""

    area: str | None
    area_ok: bool
    bad_categories: list[str] | None

    def raise_if_wrong(self) -> None:
        """Refuse unknown areas and categories with a message naming the bad value."""
        if self.area is not None and not self.area_ok:
            raise unknown("area", self.area, "区域代码", "area code")
        if self.bad_categories:
            raise unknown("category", ",".join(self.bad_categories), "类别", "category")


def checked_body(row: Sequence[Any], area: str | None) -> str:
    """Unpack ``(area_ok, bad_categories, body)`` and raise if a filter named something unknown."""
    FilterCheck(area, bool(row[0]), row[1]).raise_if_wrong()
    return str(row[2])
