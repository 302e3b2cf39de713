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


def geojson_doc(description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 response documented as ``application/geo+json``."""
    return {200: {"description": description, "content": {GEOJSON: {"schema": {"type": "object"}}}}}


def html_doc(description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 response documented as ``text/html``."""
    return {200: {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}}
