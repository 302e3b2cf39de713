"""Test fixtures: a throwaway PostGIS database with the real migrations and the sample data.

The database is created from the local cluster's template (or, against another server given by
``VILLAGEMAP_TEST_DATABASE_URL``/``DATABASE_URL``, created and given PostGIS), migrated with
Alembic, loaded with the sample generator and dropped at the end. Each test that writes runs in a
transaction that is rolled back. Nothing is skipped: under CI a skipped test fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy import Connection, Engine

from api.app import create_app
from api.deps import get_conn
from data.cases import SHANGHAI
from data.load import LoadReport, load_sample
from gis import migrate
from gis.db import make_engine
from gis.settings import Settings
from tests.browser import launch_chromium
from tests.databases import scratch_database
from tests.lifecycle import Crew, grid_point
from tests.servers import serve_in_thread

if TYPE_CHECKING:
    from tests.mobile import FieldServer

NOW = datetime.now(SHANGHAI)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for a fresh test database (created here, dropped at the end) and a photo folder."""
    with scratch_database() as test_settings:
        yield test_settings.model_copy(update={"photo_dir": tmp_path_factory.mktemp("photos")})


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


def on_connection(app: FastAPI, conn: Connection) -> TestClient:
    """A test client of ``app`` whose every request shares ``conn`` (a savepoint per request)."""

    def same_connection() -> Iterator[Connection]:
        with conn.begin_nested():
            yield conn

    app.dependency_overrides[get_conn] = same_connection
    return TestClient(app)


@pytest.fixture
def client(settings: Settings, conn: Connection) -> Iterator[TestClient]:
    """The app on the test database; every request shares the test's rolled-back transaction."""
    with on_connection(create_app(settings), conn) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, any skipped test fails the run (nothing may be skipped for want of a part)."""
    del exitstatus
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def live_url(settings: Settings, sample: LoadReport) -> Iterator[str]:
    """The real app served by uvicorn on a loopback port (for the browser tests)."""
    del sample
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), one per test module."""
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def crew(field: FieldServer) -> Crew:
    """The demo accounts signed in on a module's ``field`` server (the modules that define one)."""
    return Crew(field.client)


@pytest.fixture(scope="module")
def here(field: FieldServer) -> tuple[float, float]:
    """A point inside the demo grid, on a module's ``field`` server."""
    with field.sql() as conn:
        return grid_point(conn)
