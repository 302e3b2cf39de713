"""Test fixtures: a throwaway PostGIS database with the real migrations and the sample data.

The database is created from the local cluster's template (or, against another server given by
``VILLAGEMAP_TEST_DATABASE_URL``/``DATABASE_URL``, created and given PostGIS), migrated with
Alembic, loaded with the sample generator and dropped at the end. Each test that writes runs in a
transaction that is rolled back. Nothing is skipped: under CI a skipped test fails the run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from api.app import create_app
from api.deps import get_conn
from data.cases import SHANGHAI
from data.load import LoadReport, load_sample
from gis import migrate
from gis.db import make_engine
from gis.settings import Settings
from tests.databases import scratch_database

NOW = datetime.now(SHANGHAI)


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """Settings pointing at a fresh test database (created here, dropped at the end)."""
    with scratch_database() as test_settings:
        yield test_settings


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """The test database, migrated to head."""
    eng = make_engine(settings)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def sample(engine: Engine) -> LoadReport:
    """The sample data, loaded once for the session."""
    return load_sample(engine, now=NOW)


@pytest.fixture
def conn(engine: Engine, sample: LoadReport) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    del sample
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def client(settings: Settings, conn: Connection) -> Iterator[TestClient]:
    """The app on the test database; every request shares the test's rolled-back transaction."""
    app = create_app(settings)

    def same_connection() -> Iterator[Connection]:
        with conn.begin_nested():
            yield conn

    app.dependency_overrides[get_conn] = same_connection
    with TestClient(app) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, any skipped test fails the run (nothing may be skipped for want of a part)."""
    del exitstatus
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_url(settings: Settings, sample: LoadReport) -> Iterator[str]:
    """The real app served by uvicorn on a loopback port (for the browser tests)."""
    del sample
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
