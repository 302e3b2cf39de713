"""Health (健康检查): ``GET /healthz`` answers 200 only when PostGIS does."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from gis.db import ping

router = APIRouter(tags=["health 健康检查"])


@router.get(
    "/healthz",
    responses={
        200: {"description": "服务与数据库正常 / service and database up"},
        503: {"description": "数据库不可用 / database unavailable"},
    },
)
def healthz(request: Request) -> JSONResponse:
    """{"status":"ok","db":"ok"} when PostGIS answers; 503 otherwise."""
    try:
        with request.app.state.engine.connect() as conn:
            ok = ping(conn)
    except SQLAlchemyError:
        ok = False
    if ok:
        return JSONResponse({"status": "ok", "db": "ok"})
    return JSONResponse({"status": "degraded", "db": "unavailable"}, status_code=503)
