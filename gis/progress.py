"""Project progress and facility state (项目进度填报、设施状态变更): append-only, in one transaction.

Projects move planned → tendering → under_construction → completed → accepted (验收); tendering
may be skipped, nothing goes back, and acceptance follows completion. A progress entry may carry
the part built so far as geometry: it must lie on the project (every point within
``ON_PROJECT_M`` of it, on the ellipsoid) and its kilometres are measured, never typed. The
project's built km is the length of the project line covered by built parts; its
percentage follows from built and planned km when both exist, from the entry otherwise. Built
parts are mapped onto the project's line and merged before measuring (``vm_project_built``,
migration 0004): the same stretch reported twice counts once.
Quantities (guardrail km, speed bumps, 亩, 万元 spent) are cumulative figures to date (累计完成).

Who: roads staff for road projects, water staff for water projects, admins — within their areas.
Facilities: water staff (and admins) for monitoring stations; village officials, inspectors and
admins for collection stations; states planned → built → working ⇄ broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, func, select, text

from gis import tables_works as tw
from gis.access import Principal, in_areas
from gis.errors import Conflict, InvalidField, NotAuthenticated, NotFound
from gis.geoinput import read_geometry, read_point
from gis.lifecycle import FACILITY_STATES, PROJECT_STATUSES
from gis.photos_db import check_photos
from gis.sqlgeom import wkb

ON_PROJECT_M: Final = 30.0
PROJECT_ROLES: Final = {"road_project": ("roads_staff", "admin"), "water_project": ("water_staff", "admin")}
FACILITY_ROLES: Final = {
    "monitoring_station": ("water_staff", "admin"),
    "collection_station": ("village_official", "inspector", "admin"),
}
PROJECT_NEXT: Final = {
    "planned": ("tendering", "under_construction"),
    "tendering": ("under_construction",),
    "under_construction": ("completed",),
    "completed": ("accepted",),
    "accepted": (),
}
FACILITY_NEXT: Final = {"planned": ("built",), "built": ("working", "broken"), "working": ("broken",),
                        "broken": ("working",)}  # fmt: skip
BUILDING: Final = ("under_construction", "completed", "accepted")
_SHAPES: Final = {"LINESTRING": ("LineString", "MultiLineString"), "POLYGON": ("Polygon", "MultiPolygon"),
                  "POINT": ("Point", "MultiPoint")}  # fmt: skip


@dataclass(frozen=True)
class ProgressIn:
    """A progress entry (进度填报) as sent; quantities are cumulative to date."""

    version: int | None = None
    reported_on: date | None = None
    status: str | None = None
    built_geometry: Any = None
    crs: str | None = None
    guardrail_km: float | None = None
    speed_bumps: int | None = None
    area_mu: float | None = None
    spent_wan: float | None = None
    progress_pct: float | None = None
    note: str | None = None
    photo_ids: tuple[str, ...] = ()


OFF_PROJECT = text("""
SELECT coalesce(max(ST_Distance(p.geom::geography, d.geom::geography)), 0)
FROM project p, ST_DumpPoints(ST_Segmentize(ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography, 10)::geometry) d
WHERE p.id = :id
""")

APPEND = text("""
WITH built AS (SELECT CASE WHEN CAST(:wkb AS text) IS NULL THEN NULL
                           ELSE ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) END AS g)
INSERT INTO project_progress (project_id, county_code, reported_on, built_geom, built_km, guardrail_km,
                              speed_bumps, area_mu, spent_wan, progress_pct, status_from, status_to, note,
                              photo_ids, actor_id, actor)
SELECT p.id, p.county_code, coalesce(CAST(:on AS date), (now() AT TIME ZONE 'Asia/Shanghai')::date), built.g,
       CASE WHEN GeometryType(built.g) LIKE '%LINESTRING'
            THEN round((ST_Length(built.g::geography) / 1000)::numeric, 3) END,
       :guardrail_km, :speed_bumps, :area_mu, :spent_wan, :pct, p.status, :status_to, :note,
       CAST(:photos AS text[]), :actor_id, :actor
FROM project p, built WHERE p.id = :id
RETURNING id
""")

ROLL_UP = text("""
WITH km AS (SELECT b.km AS built FROM vm_project_built(:id) b),
v AS (SELECT CAST(:status_to AS text) AS status_to, CAST(:pct AS numeric) AS pct,
             CAST(:guardrail_km AS numeric) AS guardrail_km, CAST(:speed_bumps AS integer) AS speed_bumps,
             CAST(:area_mu AS numeric) AS area_mu)
UPDATE project p SET
  status = v.status_to,
  built_km = coalesce(km.built, p.built_km),
  progress_pct = CASE
    WHEN v.status_to IN ('completed', 'accepted') THEN 100
    WHEN km.built IS NOT NULL AND p.planned_km > 0 THEN least(100, round(100 * km.built / p.planned_km, 2))
    ELSE coalesce(v.pct, p.progress_pct) END,
  guardrail_km = coalesce(v.guardrail_km, p.guardrail_km),
  speed_bumps = coalesce(v.speed_bumps, p.speed_bumps),
  area_mu = coalesce(v.area_mu, p.area_mu),
  version = p.version + 1, updated_at = now()
FROM km, v WHERE p.id = :id
""")


def record_progress(conn: Connection, p: Principal, project_id: int, a: ProgressIn, *, max_vertices: int) -> int:
    """``POST /projects/{id}/progress``: append the entry and update the project; returns the entry id."""
    row = _locked(conn, p, tw.project, project_id, PROJECT_ROLES, "项目", "Project")
    _check_version(row, a.version)
    target = a.status or row.status
    _check_step(row.status, target, PROJECT_NEXT, PROJECT_STATUSES)
    built_wkb = _built(conn, row, a, target, max_vertices)
    _check_quantities(a)
    check_photos(conn, a.photo_ids)
    values = {"id": project_id, "wkb": built_wkb, "on": a.reported_on, "guardrail_km": a.guardrail_km,
              "speed_bumps": a.speed_bumps, "area_mu": a.area_mu, "spent_wan": a.spent_wan, "pct": a.progress_pct,
              "status_to": target, "note": a.note, "photos": list(a.photo_ids), "actor_id": p.user_id,
              "actor": p.username}  # fmt: skip
    entry = int(conn.execute(APPEND, values).scalar_one())
    conn.execute(ROLL_UP, values)
    return entry


def _locked(conn: Connection, p: Principal, table: Any, row_id: int, roles: Mapping[str, tuple[str, ...]],
            what_zh: str, what_en: str) -> Any:  # fmt: skip
    """The row, locked, if it exists and lies in the caller's areas (404 otherwise); 403 for a wrong role."""
    found = conn.execute(
        select(table, func.GeometryType(table.c.geom).label("shape")).where(table.c.id == row_id, in_areas(p, table))
        .with_for_update(of=table)
    ).one_or_none()  # fmt: skip
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in first.")
    if found is None:
        raise NotFound(f"{what_zh} {row_id} 不存在，或不在您的工作范围内。",
                       f"{what_en} {row_id} does not exist or is outside your scope.", id=row_id)  # fmt: skip
    p.require(*roles.get(found.category, ("admin",)))
    return found


def _check_version(row: Any, version: int | None) -> None:
    if version is not None and version != row.version:
        raise Conflict(
            f"已被他人修改（当前版本 {row.version}，您提交的是 {version}），请刷新后重试。",
            f"It was changed meanwhile (version {row.version}, you sent {version}); reload and retry.",
            current_version=row.version,
        )


def _check_step(current: str, target: str, steps: Mapping[str, tuple[str, ...]],
                labels: dict[str, tuple[str, str]]) -> None:  # fmt: skip
    if target not in labels:
        raise InvalidField("status", f"未知的状态“{target}”；可用：{'、'.join(labels)}。",
                           f"Unknown status '{target}'; known: {', '.join(labels)}.")  # fmt: skip
    if target != current and target not in steps[current]:
        allowed = steps[current]
        zh = "、".join(labels[s][0] for s in allowed) or "（已是最终状态）"
        raise Conflict(
            f"当前为“{labels[current][0]}”，不能改为“{labels[target][0]}”；可改为：{zh}。",
            f"It is '{current}'; it cannot become '{target}'. Allowed next: {', '.join(allowed) or 'none (final)'}.",
            current_status=current,
            allowed=list(allowed),
        )


def _built(conn: Connection, row: Any, a: ProgressIn, target: str, max_vertices: int) -> str | None:
    """The built part, checked: right shape, construction begun, on the project (distance refused)."""
    if a.built_geometry is None:
        return None
    if target not in BUILDING:
        raise Conflict(
            "项目尚未开工，不能填报已建部分；请同时把状态改为 under_construction。",
            "The project has not started: set status under_construction to report a built part.",
        )
    shape = str(row.shape).removeprefix("MULTI")
    allowed = _SHAPES.get(shape, ("LineString", "MultiLineString"))
    built = read_geometry(a.built_geometry, crs=a.crs, allowed_types=allowed, max_vertices=max_vertices,
                          field="built_geometry")  # fmt: skip
    hexed = wkb(built.geom)
    off = float(conn.execute(OFF_PROJECT, {"wkb": hexed, "id": row.id}).scalar_one())
    if off > ON_PROJECT_M:
        raise InvalidField(
            "built_geometry",
            f"已建部分偏离项目线位 {off:.0f} 米（允许 {ON_PROJECT_M:.0f} 米）：请沿项目线位绘制已建部分。",
            f"The built part lies {off:.0f} m off the project (allowed {ON_PROJECT_M:.0f} m): draw it along it.",
            distance_m=round(off, 1),
            limit_m=ON_PROJECT_M,
        )
    return hexed


def _check_quantities(a: ProgressIn) -> None:
    for name in ("guardrail_km", "speed_bumps", "area_mu", "spent_wan"):
        value = getattr(a, name)
        if value is not None and value < 0:
            raise InvalidField(name, f"{name} 不能为负数。", f"{name} must not be negative.")
    if a.progress_pct is not None and not 0 <= a.progress_pct <= 100:
        raise InvalidField("progress_pct", "进度百分比须在 0–100 之间。", "progress_pct must be within 0–100.")


@dataclass(frozen=True)
class FacilityStateIn:
    """A facility state change (设施状态变更) with optional evidence."""

    state: str
    version: int | None = None
    note: str | None = None
    photo_ids: tuple[str, ...] = ()
    position: Any = None
    crs: str | None = None


FACILITY_EVENT = text("""
WITH e AS (
  INSERT INTO facility_event (facility_id, county_code, from_state, to_state, note, photo_ids, position,
                              actor_id, actor)
  SELECT f.id, f.county_code, f.state, :to_state, :note, CAST(:photos AS text[]),
         CASE WHEN CAST(:wkb AS text) IS NULL THEN NULL ELSE ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) END,
         :actor_id, :actor
  FROM facility f WHERE f.id = :id
  RETURNING id
)
UPDATE facility SET state = :to_state, version = version + 1, updated_at = now()
WHERE id = :id RETURNING (SELECT id FROM e)
""")


def change_facility_state(conn: Connection, p: Principal, facility_id: int, a: FacilityStateIn) -> int:
    """``POST /facilities/{id}/status``: record the change as an event and set the state."""
    row = _locked(conn, p, tw.facility, facility_id, FACILITY_ROLES, "设施", "Facility")
    _check_version(row, a.version)
    if a.state == row.state:
        raise Conflict(f"设施已是“{FACILITY_STATES[row.state][0]}”。", f"The facility is already '{row.state}'.",
                       current_state=row.state)  # fmt: skip
    _check_step(row.state, a.state, FACILITY_NEXT, FACILITY_STATES)
    check_photos(conn, a.photo_ids)
    position = wkb(read_point(a.position, crs=a.crs).geom) if a.position is not None else None
    values = {"id": facility_id, "to_state": a.state, "note": a.note, "photos": list(a.photo_ids), "wkb": position,
              "actor_id": p.user_id, "actor": p.username}  # fmt: skip
    return int(conn.execute(FACILITY_EVENT, values).scalar_one())
