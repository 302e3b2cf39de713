"""Throwaway test databases (测试数据库) on the local cluster or on the server the tests are given.

A database is cloned from the local cluster's template (PostGIS and pgRouting already in it), or,
on another server (``VILLAGEMAP_TEST_DATABASE_URL``/``DATABASE_URL``), created and given PostGIS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, make_url

from data.load import load_sample
from gis import migrate
from gis.db import make_engine
from gis.localdb import TEMPLATE_DB
from gis.settings import Settings

TEST_DB = f"villagemap_test_{os.getpid()}"


def server_url() -> str:
    """The server the tests may create databases on."""
    override = os.environ.get("VILLAGEMAP_TEST_DATABASE_URL")
    return Settings(database_url=override).database_url if override else Settings().database_url


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def url_of(admin_url: str, dbname: str) -> str:
    """The same server, another database."""
    return make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)


def create_database(admin_url: str, dbname: str) -> None:
    """Create ``dbname`` with PostGIS (from the template when there is one)."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        has_template = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone()
        name = sql.Identifier(dbname)
        if has_template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(TEMPLATE_DB)))
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    with psycopg.connect(_libpq(url_of(admin_url, dbname)), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def drop_database(admin_url: str, dbname: str, attempts: int = 10) -> None:
    """Drop ``dbname``, closing whatever is still connected to it.

    An autovacuum worker (a superuser process, which the app role may not terminate) can be busy
    in the database right after a large write; the drop is then tried again for a few seconds.
    """
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        for attempt in range(attempts):
            try:
                conn.execute(statement)
                return
            except psycopg.errors.InsufficientPrivilege:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)


@contextmanager
def scratch_database(suffix: str = "") -> Iterator[Settings]:
    """Settings for a throwaway database (PostGIS, no schema) that lives as long as the block."""
    admin_url = server_url()
    dbname = f"{TEST_DB}_{suffix}" if suffix else TEST_DB
    create_database(admin_url, dbname)
    try:
        yield Settings(database_url=url_of(admin_url, dbname))
    finally:
        drop_database(admin_url, dbname)


@contextmanager
def sample_database(
    suffix: str, *, now: datetime, cases: int, photo_dir: Path | None = None
) -> Iterator[tuple[Settings, Engine]]:
    """A scratch database migrated to head with a sample of ``cases`` cases (样例库); settings and engine."""
    with scratch_database(suffix) as scratch:
        settings = scratch if photo_dir is None else scratch.model_copy(update={"photo_dir": photo_dir})
        engine = make_engine(settings)
        try:
            migrate.upgrade(engine)
            load_sample(engine, now=now, cases=cases)
            yield settings, engine
        finally:
            engine.dispose()
