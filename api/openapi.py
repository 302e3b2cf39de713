"""OpenAPI 3.0 (接口描述): FastAPI writes 3.1; GDAL, ogctests and OGC clients read 3.0.x.

:func:`use_openapi_30` replaces ``app.openapi`` with a function that takes FastAPI's document
and rewrites the 3.1-only schema keywords into their 3.0 forms (``anyOf [… null]`` →
``nullable``, ``const`` → ``enum``, ``examples`` → ``example``, numeric ``exclusiveMinimum`` →
boolean, ``contentMediaType`` → ``format: binary``). It also fills the ``limit`` parameter of
the OGC items path with the default and maximum from the settings, so a client asking for the
declared maximum (pyogrio does) gets what it expects.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

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


def use_openapi_30(app: FastAPI) -> None:
    """Serve ``/openapi.json`` as OpenAPI 3.0.3 (built once, on first request)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = downgrade(original())
            doc["openapi"] = OPENAPI_VERSION
            settings = app.state.settings
            _fill_limits(doc, settings.default_limit, settings.max_limit)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
