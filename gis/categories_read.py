"""Categories read for forms and phones (类别字典): what a report may say and what a close-out needs.

Categories are data (rows of ``category``); field pages build their buttons from this list and
compute the live close-out distance against ``closeout_radius_m`` and ``accuracy_limit_m``. Only
public rule data is listed — nothing about any case. The JSON is built by PostgreSQL in one
statement, ordered by ``sort_order`` then ``code`` (unique).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from gis.errors import InvalidParameter, NotFound

KINDS = ("problem", "project", "facility")

LIST_SQL = text("""
SELECT json_build_object('categories', coalesce(json_agg(json_build_object(
  'code', code, 'kind', kind, 'label_zh', label_zh, 'label_en', label_en, 'aliases_zh', aliases_zh,
  'geometry_types', geometry_types, 'subtypes', subtypes, 'attributes', attributes,
  'closeout_radius_m', closeout_radius_m, 'accuracy_limit_m', accuracy_limit_m,
  'duplicate_radius_m', duplicate_radius_m, 'default_deadline_days', default_deadline_days,
  'private_location', private_location, 'color', color, 'symbol', symbol, 'sort_order', sort_order)
  ORDER BY sort_order, code), '[]'::json))::text
FROM category WHERE CAST(:kind AS text) IS NULL OR kind = CAST(:kind AS text)
""")
ONE_SQL = text("""
SELECT json_build_object(
  'code', code, 'kind', kind, 'label_zh', label_zh, 'label_en', label_en, 'aliases_zh', aliases_zh,
  'geometry_types', geometry_types, 'subtypes', subtypes, 'attributes', attributes,
  'closeout_radius_m', closeout_radius_m, 'accuracy_limit_m', accuracy_limit_m,
  'duplicate_radius_m', duplicate_radius_m, 'default_deadline_days', default_deadline_days,
  'private_location', private_location, 'color', color, 'symbol', symbol, 'sort_order', sort_order)::text
FROM category WHERE code = :code
""")


def check_kind(kind: str | None) -> None:
    """``kind`` is one of problem, project, facility (or absent: all of them)."""
    if kind is not None and kind not in KINDS:
        raise InvalidParameter(
            "kind",
            f"参数 kind 须为 {'、'.join(KINDS)} 之一。",
            f"kind must be one of: {', '.join(KINDS)}.",
            value=kind,
        )


def categories_json(conn: Connection, kind: str | None = None) -> str:
    """``{"categories": [...]}`` as JSON text: every category (of ``kind``) with its rules."""
    check_kind(kind)
    return str(conn.execute(LIST_SQL, {"kind": kind}).scalar_one())


def category_json(conn: Connection, code: str) -> str:
    """One category as JSON text; 404 with the known codes when there is no such category."""
    found = conn.execute(ONE_SQL, {"code": code}).scalar_one_or_none()
    if found is None:
        known = ", ".join(conn.execute(text("SELECT code FROM category ORDER BY sort_order, code")).scalars())
        raise NotFound(f"没有类别“{code}”。可用类别：{known}。", f"No category '{code}'. Known: {known}.", code=code)
    return str(found)
