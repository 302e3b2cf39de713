"""The SQL an endpoint runs (端点的 SQL), captured for the pgbench floor.

One request goes through the real app in-process (``TestClient``) while a SQLAlchemy listener
records every statement with its bound values, rendered by psycopg exactly as the server would
see them. pgbench then replays those statements — no HTTP, no Python — which is the floor the
HTTP figures are compared with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from api.app import create_app
from gis.db import SQL_OBSERVERS
from gis.settings import Settings

# pgbench reads ``:name`` as a variable even inside string literals (``'EPSG:4326'``); such a colon
# is spelled ``' || chr(58) || '`` instead (same value, folded by the planner).
PGBENCH_VARIABLE = re.compile(r"(?<!:):(?!:)(?=[A-Za-z0-9_])(?!(id|photo)\b)")


@contextmanager
def recorded() -> Iterator[list[str]]:
    """Every statement any engine (or ``gis.db.run_sql``) runs inside the block, with its values inlined."""
    statements: list[str] = []

    def listen(_conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        rendered = psycopg.ClientCursor(cursor.connection).mogrify(statement, parameters)
        statements.append(rendered)

    def observe(raw: Any, statement: str, parameters: Any) -> None:  # statements run through gis.db.run_sql
        statements.append(psycopg.ClientCursor(raw).mogrify(statement, parameters))

    event.listen(Engine, "before_cursor_execute", listen)
    SQL_OBSERVERS.append(observe)
    try:
        yield statements
    finally:
        SQL_OBSERVERS.remove(observe)
        event.remove(Engine, "before_cursor_execute", listen)


def request_sql(
    settings: Settings, method: str, path: str, headers: Mapping[str, str] | None = None, body: Any = None
) -> tuple[int, list[str]]:
    """Status and statements of one request through the real app."""
    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
        with recorded() as statements:
            response = client.request(method, path, headers=dict(headers or {}), json=body)
    return response.status_code, [s for s in statements if not s.lstrip().upper().startswith("SELECT POSTGIS_LIB")]


def pgbench_script(statements: list[str], path: Path, transaction: bool = False, preamble: str = "") -> Path:
    """Write ``statements`` as a pgbench script (one per ``;``), optionally in one transaction."""
    lines = [preamble] if preamble else []
    lines += ["BEGIN;"] if transaction else []
    lines += [PGBENCH_VARIABLE.sub("' || chr(58) || '", s.strip().rstrip(";")) + ";" for s in statements]
    lines += ["COMMIT;"] if transaction else []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
