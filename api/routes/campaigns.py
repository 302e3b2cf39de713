"""Campaigns (整治行动): the list, one campaign, and its quota attainment as JSON or a page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import ConnDep, strict_query
from api.routes.docs import ERRORS
from api.routes.office import media_doc, page
from gis.attainment import campaign_attainment
from gis.bulletin import child_map
from gis.campaigns import get_campaign, list_campaigns
from gis.filters import area_level
from gis.periods import week_period
from maps.svgmap import choropleth_svg

router = APIRouter(tags=["campaigns 整治行动"])
CampaignId = Annotated[int, Path(ge=1, description="整治行动 id / campaign id")]


@router.get(
    "/campaigns",
    responses=media_doc("整治行动 / campaigns", "application/json", "text/html") | ERRORS,
    dependencies=[strict_query("area")],
)
def campaigns(
    request: Request,
    conn: ConnDep,
    area: Annotated[str | None, Query(description="区域代码：其上级、本级或下级的行动 / area code")] = None,
    f: Annotated[Literal["json", "html"], Query(description="json or html")] = "json",
) -> Response:
    """整治行动列表 / campaigns with their phases, weekly quotas and targets (newest first)."""
    if area is not None:
        area_level(area)
    found = list_campaigns(conn, area)
    if f == "html":
        return page(request, "campaigns.html", "整治行动 Campaigns", campaigns=found)
    return JSONResponse({"campaigns": found})


@router.get("/campaigns/{campaign_id}", responses=ERRORS)
def campaign(conn: ConnDep, campaign_id: CampaignId) -> JSONResponse:
    """一个整治行动 / one campaign."""
    return JSONResponse(get_campaign(conn, campaign_id))


@router.get(
    "/campaigns/{campaign_id}/attainment",
    responses=media_doc("任务达标 / attainment", "application/json", "text/html") | ERRORS,
    dependencies=[strict_query("week")],
)
def attainment(
    request: Request,
    conn: ConnDep,
    campaign_id: CampaignId,
    week: Annotated[str | None, Query(description="ISO 周，如 2022-W03；省略为整个行动 / ISO week")] = None,
    f: Annotated[Literal["json", "html"], Query(description="json or html")] = "json",
) -> Response:
    """任务达标情况 / quota attainment per village per week, per phase and for the campaign."""
    report = campaign_attainment(conn, campaign_id, week_period(week) if week else None)
    if f == "html":
        rates = {v["code"]: v["total"]["rate"] for v in report["villages"]}
        shapes = child_map(conn, report["campaign"]["area_code"], rates)
        legend = "达标率 Attainment"
        svg = choropleth_svg(shapes, title=f"{report['campaign']['area_name']} {legend}", legend_title=legend)
        return page(request, "attainment.html", report["campaign"]["name"], r=report, map_svg=svg)
    return JSONResponse(report)
