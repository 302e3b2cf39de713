"""Project progress and facility state (项目进度、设施状态): append-only writes by the staff in charge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep
from api.deps import ConnDep, SettingsDep
from api.responses import GeoJSONResponse
from api.routes.docs import WRITE_ERRORS, geojson_doc
from gis import facilities, projects
from gis.progress import FacilityStateIn, ProgressIn, change_facility_state, record_progress

router = APIRouter()


class Body(BaseModel):
    """Unknown fields, NaN and Infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ProgressBody(Body):
    """进度填报：已建部分几何、累计工程量、状态、照片 / a progress entry (quantities cumulative to date)."""

    version: int | None = Field(None, description="项目当前版本（可选，填则须一致）/ current version")
    reported_on: date | None = Field(None, description="填报日期（默认今天）/ date of the figures")
    status: str | None = Field(None, description="新状态 / planned, tendering, under_construction, completed, accepted")
    built_geometry: dict[str, Any] | None = Field(None, description="已建部分 GeoJSON（沿项目线位）/ the built part")
    crs: str | None = Field(None, description="EPSG:4326 (default), EPSG:4490, GCJ-02, BD-09")
    guardrail_km: float | None = Field(None, ge=0, description="防护栏累计公里 / guardrail km to date")
    speed_bumps: int | None = Field(None, ge=0, description="减速带累计条数 / speed bumps to date")
    area_mu: float | None = Field(None, ge=0, description="累计面积（亩）/ area to date, mu")
    spent_wan: float | None = Field(None, ge=0, description="累计完成投资（万元）/ spent to date, 10k CNY")
    progress_pct: float | None = Field(None, ge=0, le=100, description="进度 %（无线位里程时）/ progress %")
    note: str | None = Field(None, max_length=2000)
    photo_ids: list[str] = Field(default_factory=list, max_length=20)


class FacilityStatusBody(Body):
    """设施状态变更 / a facility state change: planned → built → working ⇄ broken."""

    state: str = Field(description="planned, built, working, broken")
    version: int | None = None
    note: str | None = Field(None, max_length=2000)
    photo_ids: list[str] = Field(default_factory=list, max_length=20)
    position: dict[str, Any] | None = Field(None, description="现场位置 GeoJSON Point / where it was checked")
    crs: str | None = None


@router.post(
    "/projects/{project_id}/progress",
    tags=["projects 项目"],
    status_code=201,
    response_class=GeoJSONResponse,
    responses=geojson_doc("更新后的项目 / the project after the entry", 201) | WRITE_ERRORS,
)
def post_progress(
    conn: ConnDep, settings: SettingsDep, p: PrincipalDep, project_id: Annotated[int, Path(ge=1)], body: ProgressBody
) -> GeoJSONResponse:
    """填报项目进度 / record progress: built part (measured on the ellipsoid), quantities, status, photos."""
    entry = ProgressIn(body.version, body.reported_on, body.status, body.built_geometry, body.crs, body.guardrail_km,
                       body.speed_bumps, body.area_mu, body.spent_wan, body.progress_pct, body.note,
                       tuple(body.photo_ids))  # fmt: skip
    record_progress(conn, p, project_id, entry, max_vertices=settings.max_vertices)
    return GeoJSONResponse(projects.project_feature(conn, project_id), status_code=201)


@router.post(
    "/facilities/{facility_id}/status",
    tags=["facilities 设施"],
    response_class=GeoJSONResponse,
    responses=geojson_doc("更新后的设施 / the facility after the change") | WRITE_ERRORS,
)
def post_facility_status(
    conn: ConnDep, p: PrincipalDep, facility_id: Annotated[int, Path(ge=1)], body: FacilityStatusBody
) -> GeoJSONResponse:
    """设施状态变更 / change a facility's state (an event kept forever)."""
    change = FacilityStateIn(body.state, body.version, body.note, tuple(body.photo_ids), body.position, body.crs)
    change_facility_state(conn, p, facility_id, change)
    return GeoJSONResponse(facilities.facility_feature(conn, facility_id))
