"""Throwaway test databases (测试数据库) on the local cluster or on the server the tests are given.

A database is cloned from the local cluster's template (PostGIS and pgRouting already in it), or,
on another server (``VILLAGEMAP_TEST_DATABASE_URL``/``DATABASE_URL``), created and given PostGIS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import make_url

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


def drop_database(admin_url: str, dbname: str) -> None:
    """Drop ``dbname``, closing whatever is still connected to it."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


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
