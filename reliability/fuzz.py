"""Fuzzing the API from its own description (接口模糊测试): schemathesis against ``/openapi.json``.

The app is driven in process (ASGI) and every request runs in a transaction that is rolled back,
so fuzzed writes never change the scratch test database and every example sees the same data:
with a fixed seed the run is the same each time. Each generated request is sent anonymously and
as every demo account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from sqlalchemy import Connection

from api.app import create_app
from api.deps import get_conn
from data.demo import DEMO_ACCOUNTS
from gis.settings import Settings

#: Examples per operation and generation mode; each is sent as every role, so the requests per
#: operation are ``MAX_EXAMPLES × len(ROLES) × 2``.
MAX_EXAMPLES: Final = 10

#: The checks (检查项): no 5xx, every status code and media type documented.
CHECKS: Final = [not_a_server_error, status_code_conformance, content_type_conformance]

#: Operations whose only input is free path text, which schemathesis cannot make invalid (negative
#: generation is unsatisfiable): they are fuzzed with valid input only.
NEGATIVE_EXEMPT: Final[frozenset[str]] = frozenset(
    {
        "GET /bulletins/{area}/{month}.{fmt}",
        "GET /collections/{collectionId}",
        "GET /collections/{collectionId}/queryables",
    }
)

#: Every demo account, and ``None`` for the anonymous public (游客).
ROLES: Final[tuple[str | None, ...]] = (*(account[0] for account in DEMO_ACCOUNTS), None)

Headers = dict[str, str]


def rolled_back_app(settings: Settings) -> FastAPI:
    """The real app whose per-request transaction is always rolled back (nothing a fuzzer sends stays)."""
    app = create_app(settings)
    engine = app.state.engine

    def rolled_back() -> Iterator[Connection]:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield conn
            finally:
                transaction.rollback()

    app.dependency_overrides[get_conn] = rolled_back
    return app


def sign_in_all(app: FastAPI, password: str) -> dict[str | None, Headers]:
    """Bearer headers for every demo account (``{}`` for the anonymous public)."""
    headers: dict[str | None, Headers] = {None: {}}
    with TestClient(app) as client:
        for role in ROLES:
            if role is None:
                continue
            response = client.post("/auth/token", data={"username": role, "password": password})
            response.raise_for_status()
            headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers


def load_schema(app: FastAPI) -> Any:
    """The app's own ``/openapi.json`` (OpenAPI 3.0.3) as a schemathesis schema on the ASGI app."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operation_labels(app: FastAPI | None = None) -> list[str]:
    """``METHOD /path`` of every operation the app describes (the fuzz test's ids)."""
    doc = (app or create_app(Settings())).openapi()
    methods = ("get", "post", "put", "patch", "delete")
    return [f"{m.upper()} {path}" for path, item in doc["paths"].items() for m in methods if m in item]
