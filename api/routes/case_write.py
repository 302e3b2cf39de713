"""Reporting and working cases (上报与流转): ``POST /cases`` and ``POST /cases/{id}/{action}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import ClaimsDep, ClientKeyDep, PrincipalDep, idempotent, principal_for
from api.deps import ConnDep, SettingsDep, request_transaction
from api.responses import GEOJSON, GeoJSONResponse
from api.routes.docs import WRITE_ERRORS, geojson_doc
from api.schemas import ActionBody, ReportBody
from gis import cases
from gis.actions import RULES, ActionIn
from gis.errors import InvalidParameter
from gis.events import case_events
from gis.privacy import erase_reporter
from gis.report import ReportIn, report_case
from gis.transitions import apply_action

router = APIRouter(tags=["cases 案件"])
CaseId = Annotated[int, Path(ge=1, description="案件 id / case id")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="重试不重复 / retry-safe key")]


@router.post(
    "/cases",
    status_code=201,
    response_class=GeoJSONResponse,
    responses=geojson_doc("新案件 / the new case (Feature)", 201) | WRITE_ERRORS,
)
def report(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, client: ClientKeyDep,
    body: ReportBody, idempotency_key: IdempotencyKey = None,
) -> Response:  # fmt: skip
    """上报问题 / report a problem: its grid is found spatially; likely duplicates are flagged."""
    del idempotency_key  # read by `idempotent` from the request headers

    def produce() -> Response:
        r = body.reporter
        data = ReportIn(
            body.category,
            body.geometry,
            body.crs,
            body.subtype,
            body.attributes,
            body.title,
            body.description,
            tuple(body.photo_ids),
            r.name if r else None,
            r.phone if r else None,
        )
        case_id = report_case(conn, p, data, client_key=client, max_vertices=settings.max_vertices,
                              anonymous_limit=settings.anonymous_reports_per_hour)  # fmt: skip
        return GeoJSONResponse(cases.case_feature(conn, case_id, p), status_code=201,
                               headers={"Location": f"/cases/{case_id}"})  # fmt: skip

    return idempotent(request, conn, p, client, body.model_dump_json(), produce)


@router.get("/cases/{case_id}/events", responses=WRITE_ERRORS)
def events(conn: ConnDep, p: PrincipalDep, case_id: CaseId) -> Response:
    """流转记录 / the case's history: who, when, where, note, photos (details within your scope)."""
    return Response(case_events(conn, case_id, p), media_type="application/json")


@router.post("/cases/{case_id}/erase-reporter", response_class=GeoJSONResponse, responses=WRITE_ERRORS)
def erase(conn: ConnDep, p: PrincipalDep, case_id: CaseId) -> GeoJSONResponse:
    """删除上报人信息 / erase the reporter's name and phone on request (PIPL); recorded as an event."""
    erase_reporter(conn, p, case_id)
    return GeoJSONResponse(cases.case_feature(conn, case_id, p))


def _version(body: ActionBody, if_match: str | None) -> int | None:
    if body.version is not None or if_match is None:
        return body.version
    try:
        return int(if_match.strip().strip('W/"').strip('"'))
    except ValueError:
        raise InvalidParameter("If-Match", "If-Match 须为案件版本号。", "If-Match must be the case version.") from None


@router.post(
    "/cases/{case_id}/{action}",
    response_class=GeoJSONResponse,
    responses=geojson_doc("流转后的案件 / the case after the action") | WRITE_ERRORS,
    description="Actions: " + ", ".join(RULES),
)
async def act(
    request: Request, settings: SettingsDep, claims: ClaimsDep, client: ClientKeyDep,
    case_id: CaseId, action: Annotated[str, Path(description=" | ".join(RULES))], body: ActionBody,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None, idempotency_key: IdempotencyKey = None,
) -> Response:  # fmt: skip
    """流转操作 / a lifecycle action (立案、派遣、处置、结案 …) with its event, in one transaction.

    ``async`` with one worker-thread hop: the caller's lookup, the action, its event and the returned
    case run in one thread and one transaction, committed before the response is sent.
    """
    del idempotency_key
    fingerprint = f"{action}|{body.model_dump_json()}|{if_match}"

    def in_transaction() -> Response:
        with request_transaction(request) as conn:
            p = principal_for(conn, claims)

            def produce() -> Response:
                a = body.assignee
                data = ActionIn(_version(body, if_match), body.note, body.position, body.accuracy_m, body.crs,
                                tuple(body.photo_ids), a.unit if a else None, a.user if a else None,
                                body.lead_unit, tuple(body.responsible_units), body.deadline,
                                body.remedied_geometry, body.duplicate_of, body.review_on, body.decision,
                                body.measurements)  # fmt: skip
                apply_action(conn, p, case_id, action, data, max_vertices=settings.max_vertices)
                return GeoJSONResponse(cases.case_feature(conn, case_id, p), media_type=GEOJSON)

            return idempotent(request, conn, p, client, fingerprint, produce)

    return await run_in_threadpool(in_transaction)
