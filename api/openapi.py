"""OpenAPI 3.0 (接口描述): FastAPI writes 3.1; GDAL, ogctests and OGC clients read 3.0.x.

:func:`use_openapi_30` replaces ``app.openapi`` with a function that takes FastAPI's document
and rewrites the 3.1-only schema keywords into their 3.0 forms (``anyOf [… null]`` →
``nullable``, ``const`` → ``enum``, ``examples`` → ``example``, numeric ``exclusiveMinimum`` →
boolean, ``contentMediaType`` → ``format: binary``). It also fills the ``limit`` parameter of
the OGC items path with the default and maximum from the settings, so a client asking for the
declared maximum (pyogrio does) gets what it expects.

Errors are documented as they are sent: FastAPI's stock 422 (``application/json``, its own
validation schema) becomes the problem+json the app's handler writes, a route with parameters
documents the 400 a bad query or path parameter gets, and a route that reads the bearer token
documents the 401 a bad or expired token gets (found by schemathesis, ``reliability/``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth import get_principal
from api.errors import PROBLEM_JSON

OPENAPI_VERSION = "3.0.3"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            schema.pop(key)
            if len(rest) == 1 and "$ref" not in rest[0]:
                schema = {**rest[0], **schema}
            else:
                schema[key] = rest
            schema["nullable"] = True
    kind = schema.get("type")
    if isinstance(kind, list):
        types = [k for k in kind if k != "null"]
        schema["type"] = types[0] if len(types) == 1 else "string"
        schema["nullable"] = "null" in kind or schema.get("nullable", False)
    return schema


def _keywords(schema: dict[str, Any]) -> dict[str, Any]:
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if isinstance(schema.get("examples"), list):
        examples = schema.pop("examples")
        if examples:
            schema["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[plain], schema[bound] = value, True
    if schema.pop("contentMediaType", None) is not None:
        schema["format"] = "binary"
    schema.pop("contentEncoding", None)
    if "prefixItems" in schema:
        schema["items"] = schema.pop("prefixItems")[0]
    return schema


def downgrade(node: Any) -> Any:
    """Rewrite a 3.1 document (or any part of it) into OpenAPI 3.0 forms, recursively."""
    if isinstance(node, list):
        return [downgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten = {key: downgrade(value) for key, value in node.items()}
    if "$ref" in rewritten and len(rewritten) > 1:
        return {"allOf": [{"$ref": rewritten.pop("$ref")}], **rewritten}
    return _keywords(_nullable(rewritten))


def _fill_limits(doc: dict[str, Any], default_limit: int, max_limit: int) -> None:
    for path, item in doc.get("paths", {}).items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter.get("name") == "limit" and path.startswith("/collections/"):
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status", "detail", "detail_zh"],
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "English"},
        "detail_zh": {"type": "string", "description": "中文说明"},
    },
}


def _reads_token(dependant: Dependant) -> bool:
    return any(d.call is get_principal or _reads_token(d) for d in dependant.dependencies)


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}


def _document_errors(doc: dict[str, Any], app: FastAPI) -> None:
    """Document the errors the app's own handlers send on plain routes (problem+json 400, 401, 422)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if type(route) is not APIRoute or not route.include_in_schema:
            continue
        item = doc.get("paths", {}).get(context.path_format, {})
        for method in route.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses and "application/json" in responses["422"].get("content", {}):
                responses["422"] = _problem("内容无效 / invalid request body")
            if operation.get("parameters") and "400" not in responses:
                responses["400"] = _problem("参数错误 / invalid parameter")
            if _reads_token(route.dependant) and "401" not in responses:
                responses["401"] = _problem("令牌无效或已过期 / invalid or expired token")


def use_openapi_30(app: FastAPI) -> None:
    """Serve ``/openapi.json`` as OpenAPI 3.0.3 (built once, on first request)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = downgrade(original())
            doc["openapi"] = OPENAPI_VERSION
            settings = app.state.settings
            _fill_limits(doc, settings.default_limit, settings.max_limit)
            _document_errors(doc, app)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
