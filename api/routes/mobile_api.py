"""What the field pages ask besides the public API (移动端接口): a human check, reports, actions.

``POST /m/api/reports`` is ``POST /cases`` with one more gate: an anonymous villager must answer
the page's small sum (``GET /m/api/challenge``); signed-in staff need not. Everything else — the
rules, the hourly quota, idempotent retries with ``Idempotency-Key`` — is the same code path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.routing import Match

from api.auth import ClientKeyDep, PrincipalDep
from api.deps import ConnDep, SettingsDep
from api.responses import GeoJSONResponse
from api.routes import case_write
from api.routes.docs import ERRORS, WRITE_ERRORS, geojson_doc
from api.schemas import Body, ReportBody
from gis import human_check
from gis.errors import InvalidField
from gis.field_actions import allowed_actions

router = APIRouter(tags=["mobile 移动端"])
PATROL_ROUTE = "/grids/640221202204001/patrol-route"  # any grid code: only the path matters


class HumanCheck(Body):
    """人机验证: the token of ``GET /m/api/challenge`` and the answer typed by the villager."""

    token: str = Field(max_length=200)
    answer: str = Field(max_length=20)


class FieldReport(ReportBody):
    """上报 from the field pages: a report, plus the human check for anonymous villagers."""

    human_check: HumanCheck | None = None


@router.get("/m/api/challenge", responses=ERRORS)
def challenge(settings: SettingsDep) -> JSONResponse:
    """人机验证题 / a small sum for anonymous reports; the signed token comes back with the answer."""
    c = human_check.new_challenge(settings.jwt_secret)
    body = {"question_zh": c.question_zh, "question": c.question_en, "token": c.token, "expires_at": c.expires_at}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post(
    "/m/api/reports",
    status_code=201,
    response_class=GeoJSONResponse,
    responses=geojson_doc("新案件 / the new case (Feature)", 201) | WRITE_ERRORS,
)
def field_report(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, client: ClientKeyDep,
    body: FieldReport, idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:  # fmt: skip
    """上报（现场页面）/ a report from the field pages; anonymous villagers answer the human check."""
    del idempotency_key  # read from the headers by the report path
    if p.anonymous:
        if body.human_check is None:
            raise InvalidField("human_check", "匿名上报请先回答验证问题。", "Anonymous reports need the human check.")
        human_check.verify(settings.jwt_secret, body.human_check.token, body.human_check.answer)
    report = ReportBody.model_validate(body.model_dump(exclude={"human_check"}))
    return case_write.report(request, conn, settings, p, client, report)


@router.get("/m/api/cases/{case_id}/actions", responses=ERRORS)
def field_actions(conn: ConnDep, p: PrincipalDep, case_id: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
    """可做的现场操作 / the on-site actions you may take on the case now, its version and close-out limits."""
    return allowed_actions(conn, p, case_id)


@router.get("/m/api/features", responses=ERRORS)
def features(request: Request) -> dict[str, Any]:
    """服务端功能 / which optional endpoints this server has (the worklist sorts by route when it can)."""
    return {"patrol_route": _serves(request, PATROL_ROUTE) and not _serves(request, PATROL_ROUTE + "-none")}


def _serves(request: Request, path: str) -> bool:
    """True when a GET of ``path`` reaches an endpoint of this app (routers may be nested)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "path_params": {}, "query_string": b"",
             "headers": []}  # fmt: skip
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)
