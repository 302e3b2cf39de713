"""Units (单位): departments, township governments and contractors, addressed by their codes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from gis import tables as t
from gis.errors import InvalidField


def unit_ids(conn: Connection, codes: Sequence[str], field: str) -> dict[str, int]:
    """Code → id for every code; an unknown code is refused (422) naming it."""
    u = t.unit
    found = {str(code): int(uid) for code, uid in conn.execute(select(u.c.code, u.c.id).where(u.c.code.in_(codes)))}
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidField(
            field, f"未知的单位代码：{', '.join(missing)}。", f"Unknown unit code(s): {', '.join(missing)}."
        )
    return found
