"""Cases (问题案件) read routes: ``GET /cases`` and ``GET /cases/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import PrincipalDep
from api.deps import AfterDep, BBoxDep, ConnDep, LimitDep, LinksDep, strict_query
from api.responses import GEOJSON, GeoJSONResponse
from api.routes.docs import ERRORS, geojson_doc
from gis import cases
from gis.filters import parse_codes

router = APIRouter(tags=["cases 案件"])
CaseId = Annotated[int, Path(ge=1, description="案件 id / case id")]


@router.get(
    "/cases",
    response_class=GeoJSONResponse,
    responses=geojson_doc("案件列表 / a page of cases (FeatureCollection)") | ERRORS,
    dependencies=[
        strict_query("category", "status", "area", "bbox", "overdue", "mine", "review_due", "limit", "after")
    ],
)
def list_cases(
    conn: ConnDep,
    p: PrincipalDep,
    links: LinksDep,
    bbox: BBoxDep,
    limit: LimitDep,
    after: AfterDep,
    category: Annotated[str | None, Query(description="类别代码，逗号分隔 / category codes, comma-separated")] = None,
    status: Annotated[str | None, Query(description="状态，逗号分隔 / statuses, comma-separated")] = None,
    area: Annotated[str | None, Query(description="区县/乡镇/村/网格代码 / area code (6, 9, 12 or 15 digits)")] = None,
    overdue: Annotated[bool | None, Query(description="只看逾期（true）或未逾期（false）/ overdue only")] = None,
    mine: Annotated[bool, Query(description="只看我负责的 / only cases in my scope")] = False,
    review_due: Annotated[bool | None, Query(description="挂账到期复查（true）或未到期（false）")] = None,
) -> GeoJSONResponse:
    """案件列表：按 id 排序分页的 GeoJSON / cases as a paged GeoJSON FeatureCollection."""
    q = cases.CaseQuery(
        categories=parse_codes("category", category),
        statuses=parse_codes("status", status),
        area=area,
        bbox=bbox,
        overdue=overdue,
        mine=mine,
        review_due=review_due,
        after=after,
        limit=limit,
    )
    return GeoJSONResponse(cases.case_page(conn, q, links, p), media_type=GEOJSON)


@router.get(
    "/cases/{case_id}",
    response_class=GeoJSONResponse,
    responses=geojson_doc("一个案件 / one case (Feature)") | ERRORS,
)
def get_case(conn: ConnDep, p: PrincipalDep, case_id: CaseId) -> GeoJSONResponse:
    """一个案件 / one case as a GeoJSON Feature (whole within your scope, public view otherwise)."""
    return GeoJSONResponse(cases.case_feature(conn, case_id, p))
