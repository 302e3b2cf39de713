"""OpenAPI descriptions shared by the routes (接口文档): media types and error shapes."""

from __future__ import annotations

from typing import Any

from api.errors import PROBLEM_JSON
from api.responses import GEOJSON

_PROBLEM = {
    PROBLEM_JSON: {
        "schema": {
            "type": "object",
            "required": ["title", "status", "detail", "detail_zh"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string", "description": "English"},
                "detail_zh": {"type": "string", "description": "中文说明"},
            },
        }
    }
}

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "参数错误 / invalid parameter", "content": _PROBLEM},
    404: {"description": "不存在 / not found", "content": _PROBLEM},
    503: {
        "description": "查询超时或数据库不可用 / timed out or database unavailable",
        "content": _PROBLEM,
    },
}


WRITE_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {
    401: {"description": "未登录或令牌无效 / not authenticated", "content": _PROBLEM},
    403: {"description": "无权操作 / forbidden for this role", "content": _PROBLEM},
    409: {"description": "版本或状态冲突 / stale version or wrong state", "content": _PROBLEM},
    422: {"description": "内容无效（几何、字段、距离）/ invalid content", "content": _PROBLEM},
    428: {"description": "缺少版本号 / version required", "content": _PROBLEM},
    429: {"description": "上报过于频繁 / too many anonymous reports", "content": _PROBLEM},
}


def geojson_doc(description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """A success response documented as ``application/geo+json``."""
    return {status: {"description": description, "content": {GEOJSON: {"schema": {"type": "object"}}}}}


def html_doc(description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 response documented as ``text/html``."""
    return {200: {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}}
