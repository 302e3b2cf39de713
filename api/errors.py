"""Errors as RFC 9457 problem+json (错误响应), mapped from domain errors in one table.

Database errors are translated in one place too: a statement timeout is a 503 that says to narrow
the query, a rule in the schema that refuses a write is a 409, and anything unexpected is a 500
whose body never leaks SQL or a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import (
    CloseoutRefused,
    Conflict,
    DomainError,
    Forbidden,
    InvalidField,
    InvalidGeometry,
    InvalidParameter,
    NotAuthenticated,
    NotFound,
    PhotoRejected,
    PreconditionRequired,
    StorageRefused,
    TooManyRequests,
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("villagemap")

STATUS_CODES: dict[type[DomainError], int] = {
    NotFound: 404,
    InvalidParameter: 400,
    InvalidGeometry: 422,
    InvalidField: 422,
    CloseoutRefused: 422,
    NotAuthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    StorageRefused: 409,
    PreconditionRequired: 428,
    PhotoRejected: 422,
    TooManyRequests: 429,
}


class ProblemResponse(Response):
    """A problem+json response (UTF-8, Chinese kept readable)."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        """Serialise with orjson (with the standard library for integers beyond 64 bits, e.g. an echoed id)."""
        try:
            return orjson.dumps(content)
        except TypeError:
            return json.dumps(content, ensure_ascii=False).encode()


def problem(status: int, title: str, detail_zh: str, detail_en: str, **extra: Any) -> ProblemResponse:
    """A problem document: ``title``, ``detail`` (English), ``detail_zh`` and any extras.

    Extras never overwrite the RFC 9457 members.
    """
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail_en}
    body["detail_zh"] = detail_zh
    body |= {key: value for key, value in extra.items() if key not in body}
    return ProblemResponse(body, status_code=status)


def _domain(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = next((code for cls, code in STATUS_CODES.items() if isinstance(exc, cls)), 400)
    response = problem(status, exc.title, exc.detail_zh, exc.detail_en, **exc.extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if status == 429 and "retry_after_s" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after_s"])
    return response


def _validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
    name = ".".join(where) or "request"
    in_body = first.get("loc", ("",))[0] == "body"
    zh, en = _explain(first.get("type", ""), name, first.get("msg", ""), first.get("ctx") or {})
    return problem(422 if in_body else 400, "Invalid request", zh, en, parameter=name)


def _explain(kind: str, name: str, msg: str, ctx: dict[str, Any]) -> tuple[str, str]:
    if kind in ("int_parsing", "int_type"):
        return f"参数 {name} 须为整数。", f"{name} must be an integer."
    if kind in ("bool_parsing", "bool_type"):
        return f"参数 {name} 须为 true 或 false。", f"{name} must be true or false."
    if kind == "missing":
        return f"缺少参数 {name}。", f"{name} is required."
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"参数 {name} 须不小于 {bound}。", f"{name} must be at least {bound}."
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"参数 {name} 须不大于 {bound}。", f"{name} must be at most {bound}."
    if kind == "extra_forbidden":
        return f"不认识的字段 {name}，请删除它。", f"{name} is not a known field; remove it."
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"{name} 须为日期，格式 YYYY-MM-DD。", f"{name} must be a date (YYYY-MM-DD)."
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{name} 须为有限的数字。", f"{name} must be a finite number."
    if kind == "literal_error":
        return f"{name} 的取值不对：{msg}", f"{name} has a value that is not allowed: {msg}"
    if kind == "string_pattern_mismatch":
        return f"参数 {name} 格式不对。", f"{name} has the wrong format ({msg})."
    return f"参数 {name} 无效：{msg}", f"{name} is invalid: {msg}"


def _http(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return problem(404, "Not found", "没有这个地址。", "There is no such path.")
    if exc.status_code == 405:
        return problem(
            405,
            "Method not allowed",
            "该地址不支持此请求方法。",
            "This path does not accept that method.",
        )
    return problem(exc.status_code, "HTTP error", str(exc.detail), str(exc.detail))


def _database(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    code = getattr(exc.orig, "sqlstate", None)
    status = 422 if request.method in ("POST", "PUT", "PATCH") else 400
    if isinstance(exc, DataError) and "NUL" in str(exc.orig):  # PostgreSQL text cannot hold U+0000
        return problem(status, "Invalid text", "文本中含有空字符（\\u0000），请删除后重试。",
                       "The text contains a NUL character (\\u0000); remove it and try again.")  # fmt: skip
    if code == "22003":  # numeric_value_out_of_range: an id or number beyond its column's type
        return problem(status, "Number out of range", "数字超出范围（如编号过大），请检查后重试。",
                       "A number is out of range (e.g. an id that is far too large); check it.")  # fmt: skip
    if code == "57014":  # query_canceled: statement_timeout
        return problem(503, "Query took too long", "查询超时：请缩小范围（bbox、区域或类别）后重试。",
                       "The query timed out: narrow it (bbox, area or category) and try again.")  # fmt: skip
    if isinstance(exc, OperationalError):
        return problem(503, "Database unavailable", "数据库暂时无法连接，请稍后重试。",
                       "The database cannot be reached right now; try again shortly.")  # fmt: skip
    log.exception("database error", exc_info=exc)
    return problem(
        500,
        "Internal error",
        "服务器内部错误，已记录。",
        "Internal server error; it has been logged.",
    )


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers: domain errors by table, validation, HTTP and database errors."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
