"""Open311 services (服务类别): the problem categories, their groups and attribute definitions."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, select

from gis import tables as t
from gis.errors import NotFound

#: Open311 groups (分组) of the problem categories; a new category falls into 其他 other.
GROUPS: Final[dict[str, str]] = {
    "garbage_point": "环境卫生 sanitation",
    "agri_waste": "环境卫生 sanitation",
    "ruined_wall": "村容村貌 village appearance",
    "dilapidated_house": "村容村貌 village appearance",
    "black_odorous_water": "水环境 water",
    "household_toilet": "厕所革命 toilets",
}


def _rows(conn: Connection, code: str | None = None) -> list[Any]:
    cat = t.category
    stmt = select(cat).where(cat.c.kind == "problem").order_by(cat.c.sort_order, cat.c.code)
    if code is not None:
        stmt = stmt.where(cat.c.code == code)
    return list(conn.execute(stmt))


def unknown_service(code: str) -> NotFound:
    """A 404 for a service code that is not a problem category."""
    return NotFound(
        f"没有服务类别“{code}”。可用类别见 services.json。",
        f"There is no service_code '{code}'; see services.json for the list.",
        service_code=code,
    )


def services(conn: Connection) -> list[dict[str, Any]]:
    """``services``: one per problem category (code, names, group, keywords)."""
    found = []
    for row in _rows(conn):
        keywords = [*row.subtypes, *(row.aliases_zh or "").replace("、", ",").split(",")]
        found.append({
            "service_code": row.code,
            "service_name": f"{row.label_zh} {row.label_en}",
            "description": f"{row.label_zh}（{'、'.join(row.subtypes)}）/ {row.label_en}",
            "metadata": bool(row.subtypes or row.attributes),
            "type": "realtime",
            "keywords": ",".join(k.strip() for k in keywords if k.strip()),
            "group": GROUPS.get(row.code, "其他 other"),
        })  # fmt: skip
    return found


def _attribute(code: str, spec: dict[str, Any], order: int) -> dict[str, Any]:
    label = f"{spec.get('label_zh', code)} {spec.get('label_en', code)}"
    kind = spec.get("type")
    if kind == "boolean":
        values = [{"key": "true", "name": "是 yes"}, {"key": "false", "name": "否 no"}]
    else:
        values = [{"key": str(v), "name": str(v)} for v in spec.get("values", [])]
    datatype = "singlevaluelist" if values else "number" if kind == "number" else "string"
    found = {"variable": True, "code": code, "datatype": datatype, "required": False,
             "datatype_description": None, "order": order, "description": label}  # fmt: skip
    return found | ({"values": values} if values else {})


def service_definition(conn: Connection, code: str) -> dict[str, Any]:
    """``services/{code}``: the subtype (e.g. 六堆) and the category's attributes (e.g. 六边 edge)."""
    rows = _rows(conn, code)
    if not rows:
        raise unknown_service(code)
    row = rows[0]
    attributes = []
    if row.subtypes:
        subtype = {"label_zh": "子类", "label_en": "subtype", "values": list(row.subtypes)}
        attributes.append(_attribute("subtype", subtype, 1))
    for i, (key, spec) in enumerate(dict(row.attributes).items(), start=2):
        attributes.append(_attribute(key, spec, i))
    return {"service_code": row.code, "attributes": attributes}
