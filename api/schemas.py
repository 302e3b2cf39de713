"""Request bodies (请求体) as pydantic models: shapes for OpenAPI; the rules are checked in gis/."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """Unknown fields are refused, NaN and Infinity too."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Reporter(Body):
    """上报人 (kept apart from the public record; erased on request)."""

    name: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)


class ReportBody(Body):
    """上报 / a new problem report."""

    category: str = Field(description="类别代码 / category code, e.g. garbage_point")
    geometry: dict[str, Any] = Field(description="GeoJSON geometry, [lon, lat]")
    crs: str | None = Field(None, description="EPSG:4326 (default), EPSG:4490, GCJ-02 or BD-09")
    subtype: str | None = Field(None, description="子类 / subtype, e.g. 草堆")
    attributes: dict[str, Any] = Field(default_factory=dict, description='类别属性 / e.g. {"edge": "路边"}')
    title: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=4000)
    photo_ids: list[str] = Field(default_factory=list, max_length=20)
    reporter: Reporter | None = None


class Assignee(Body):
    """派遣对象: a unit code and/or a username."""

    unit: str | None = None
    user: str | None = None


class ActionBody(Body):
    """A lifecycle action; each action takes the fields it needs."""

    version: int | None = Field(None, description="案件当前版本 / the case's current version (or If-Match)")
    note: str | None = Field(None, max_length=2000)
    position: dict[str, Any] | None = Field(None, description="GeoJSON Point of the actor")
    accuracy_m: float | None = Field(None, ge=0)
    crs: str | None = None
    photo_ids: list[str] = Field(default_factory=list, max_length=20)
    assignee: Assignee | None = None
    lead_unit: str | None = None
    responsible_units: list[str] = Field(default_factory=list, max_length=20)
    deadline: date | None = None
    remedied_geometry: dict[str, Any] | None = None
    duplicate_of: int | None = Field(None, ge=1)
    review_on: date | None = None
    decision: Literal["approve", "refuse"] | None = None
    measurements: dict[str, float] | None = None


class PasswordChange(Body):
    """修改密码."""

    old_password: str
    new_password: str = Field(min_length=8, max_length=128)


class PasswordReset(Body):
    """重置密码 (admin)."""

    new_password: str = Field(min_length=8, max_length=128)


class GridManager(Body):
    """网格交接: the new grid manager."""

    username: str


class NewUser(Body):
    """新建账号 (admin)."""

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    display_name: str = Field(min_length=1, max_length=50)
    role: str
    password: str = Field(min_length=8, max_length=128)
    areas: list[str] = Field(default_factory=list, max_length=50)
    unit: str | None = None
