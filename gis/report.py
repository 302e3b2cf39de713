"""Reporting a problem (上报): validate, locate its grid, flag likely duplicates, store with its event.

Everything is checked before anything is written, and the case, its reporter and its ``report``
event go in within the caller's one transaction. The grid is found by PostGIS (``vm_grid_for``);
a geometry outside every grid of the loaded counties is refused with the distance to the nearest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from shapely.geometry.base import BaseGeometry

from gis.access import Principal
from gis.categories import Category, check_attributes, check_subtype, load_category
from gis.errors import Forbidden, InvalidField, InvalidGeometry, TooManyRequests
from gis.event_log import record_event
from gis.geoinput import read_geometry
from gis.photos_db import check_photos
from gis.sqlgeom import wkb

REPORTING_ROLES = ("grid_manager", "village_official", "inspector", "water_staff", "admin")
__all__ = ["ReportIn", "record_event", "report_case", "wkb"]

PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


@dataclass(frozen=True)
class ReportIn:
    """A report as received (上报内容); ``geometry`` is raw GeoJSON, checked here."""

    category: str
    geometry: Any
    crs: str | None = None
    subtype: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    description: str = ""
    photo_ids: tuple[str, ...] = ()
    reporter_name: str | None = None
    reporter_phone: str | None = None


NEAREST_GRID = text("""
SELECT min(ST_Distance(r.geom::geography, ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography)) FROM (
  SELECT geom FROM region WHERE level = 'grid' ORDER BY geom <-> ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) LIMIT 5) r
""")

DUPLICATES = text("""
SELECT c.id FROM cases c
WHERE c.category = :category AND c.status NOT IN ('closed', 'rejected')
  AND ST_DWithin(c.geom::geography, ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography, :radius)
ORDER BY c.id LIMIT 20
""")

INSERT_CASE = text("""
INSERT INTO cases (code, category, subtype, attributes, geom, county_code, township_code, village_code,
                   grid_code, status, title, description, reported_at, source, created_by, possible_duplicates)
SELECT vm_next_case_code(left(:grid, 6), now()), :category, :subtype, CAST(:attributes AS jsonb),
       ST_GeomFromWKB(decode(:wkb, 'hex'), 4326),
       left(:grid, 6), left(:grid, 9), left(:grid, 12), :grid, 'reported',
       coalesce(:title, v.name || coalesce(:subtype, :label)), :description, now(), :source, :user_id,
       CAST(:duplicates AS bigint[])
FROM region v WHERE v.code = left(:grid, 12)
RETURNING id, county_code
""")


INSERT_REPORTER = text("""
INSERT INTO case_reporter (case_id, county_code, name, phone, client_key) VALUES (:i, :c, :n, :p, :k)
""")


def _locate(conn: Connection, geom: BaseGeometry) -> str:
    hexed = wkb(geom)
    locate = text("SELECT vm_grid_for(ST_GeomFromWKB(decode(:wkb, 'hex'), 4326))")
    grid = conn.execute(locate, {"wkb": hexed}).scalar_one()
    if grid is not None:
        return str(grid)
    distance = conn.execute(NEAREST_GRID, {"wkb": hexed}).scalar_one()
    metres = round(float(distance or 0))
    raise InvalidGeometry(
        f"该位置不在已载入区县的任何网格内，距最近的网格 {metres} 米。请检查坐标（经度在前）和坐标系。",
        f"This location lies in no grid of the loaded counties; the nearest grid is {metres} m away. "
        "Check the coordinates (longitude first) and the declared CRS.",
        field="geometry",
        reason="outside_grids",
        distance_m=metres,
    )


def _check_reporter_scope(p: Principal, grid: str, category: Category) -> None:
    if p.anonymous:
        return
    p.require(*REPORTING_ROLES)
    if p.role == "water_staff" and category.code != "black_odorous_water":
        raise Forbidden("水务人员只能上报黑臭水体。", "Water staff may only report black-odorous water bodies.")
    if not any(grid.startswith(area) for area in p.areas):
        raise Forbidden(
            f"该位置属于网格 {grid}，不在您负责的区域内。",
            f"This location lies in grid {grid}, outside your areas.",
            grid_code=grid,
        )


def check_upload_quota(conn: Connection, client_key: str, limit: int) -> None:
    """Anonymous photo uploads share the hourly quota idea with reports, under their own key."""
    _check_quota(conn, f"photo:{client_key}"[:64], limit)


def _check_quota(conn: Connection, client_key: str, limit: int) -> None:
    count = conn.execute(
        text("""
        INSERT INTO report_quota AS q (client_key, window_start, count)
        VALUES (:key, date_trunc('hour', now()), 1)
        ON CONFLICT (client_key, window_start) DO UPDATE SET count = q.count + 1
        RETURNING q.count
        """),
        {"key": client_key},
    ).scalar_one()
    if count > limit:
        raise TooManyRequests(
            f"上报过于频繁：每小时最多 {limit} 件，请稍后再试，或登录后上报。",
            f"Too many reports: at most {limit} per hour without an account; try later or sign in.",
            retry_after_s=3600,
        )


def _check_reporter(name: str | None, phone: str | None) -> None:
    if name is not None and not 1 <= len(name.strip()) <= 50:
        raise InvalidField("reporter.name", "上报人姓名须为 1–50 个字。", "reporter.name must be 1–50 characters.")
    if phone is not None and not PHONE.match(phone.strip()):
        raise InvalidField(
            "reporter.phone", "联系电话格式不对（如 13800000000）。", "reporter.phone is not a phone number."
        )


def _checked(conn: Connection, p: Principal, r: ReportIn, max_vertices: int) -> tuple[Category, BaseGeometry, str]:
    category = load_category(conn, r.category)
    check_subtype(category, r.subtype)
    check_attributes(category, r.attributes)
    _check_reporter(r.reporter_name, r.reporter_phone)
    if r.title is not None and not 1 <= len(r.title.strip()) <= 200:
        raise InvalidField("title", "标题须为 1–200 个字。", "title must be 1–200 characters.")
    if len(r.description) > 4000:
        raise InvalidField("description", "描述最多 4000 字。", "description may be at most 4000 characters.")
    accepted = read_geometry(r.geometry, crs=r.crs, allowed_types=category.geometry_types, max_vertices=max_vertices)
    check_photos(conn, r.photo_ids)
    grid = _locate(conn, accepted.geom)
    _check_reporter_scope(p, grid, category)
    return category, accepted.geom, grid


def _duplicates(conn: Connection, category: Category, hexed: str) -> list[int]:
    """Open cases of the same category within its duplicate radius (疑似重复)."""
    values = {"category": category.code, "wkb": hexed, "radius": category.duplicate_radius_m}
    return [int(i) for i in conn.execute(DUPLICATES, values).scalars()]


def report_case(
    conn: Connection,
    p: Principal,
    r: ReportIn,
    *,
    client_key: str,
    max_vertices: int,
    anonymous_limit: int,
    source: str = "app",
    event_data: dict[str, Any] | None = None,
) -> int:
    """Store a new case and its ``report`` event; returns the case id.

    ``event_data`` is kept with the event (e.g. the channel and the client's ``media_url``).
    """
    category, geom, grid = _checked(conn, p, r, max_vertices)
    if p.anonymous:
        _check_quota(conn, client_key, anonymous_limit)
    hexed = wkb(geom)
    duplicates = _duplicates(conn, category, hexed)
    params = {
        "grid": grid,
        "category": category.code,
        "subtype": r.subtype,
        "label": category.label_zh,
        "attributes": json.dumps(r.attributes, ensure_ascii=False),
        "wkb": hexed,
        "title": r.title,
        "description": r.description,
        "source": source,
        "user_id": p.user_id,
        "duplicates": duplicates,
    }
    case_id, county = conn.execute(INSERT_CASE, params).one()
    if r.reporter_name or r.reporter_phone:
        values = {"i": case_id, "c": county, "n": r.reporter_name, "p": r.reporter_phone, "k": client_key}
        conn.execute(INSERT_REPORTER, values)
    extra = ({"possible_duplicates": duplicates} if duplicates else {}) | (event_data or {})
    record_event(conn, int(case_id), p, "report", None, "reported", photo_ids=r.photo_ids, data=extra)
    return int(case_id)
