"""Engine and metadata (数据库连接): built from settings by the caller, never at import time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Engine, MetaData, create_engine, text
from sqlalchemy.exc import DBAPIError

from gis.settings import Settings

LOCAL_TIMEZONE = "Asia/Shanghai"

NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(settings: Settings, *, pool_size: int | None = None) -> Engine:
    """An engine whose sessions time out, speak Asia/Shanghai time and identify themselves."""
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone={LOCAL_TIMEZONE}"
    return create_engine(
        settings.database_url,
        pool_size=pool_size or settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args={"options": options, "application_name": "villagemap"},
    )


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with engine.begin() as conn:
        yield conn


def ping(conn: Connection) -> bool:
    """True when PostGIS answers (健康检查)."""
    return conn.execute(text("SELECT postgis_lib_version() IS NOT NULL")).scalar_one() is True


def without_statement_timeout(conn: Connection) -> None:
    """Lift the statement timeout for the rest of this transaction (operator commands such as a large import)."""
    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")


#: Called with ``(driver connection, sql, params)`` before each ``run_sql`` statement (the benchmark's
#: capture records them for its pgbench floor, as it records SQLAlchemy's own statements).
SQL_OBSERVERS: list[Callable[[Any, str, Mapping[str, Any]], None]] = []


def run_sql(conn: Connection, sql: str, params: Mapping[str, Any]) -> psycopg.Cursor[Any]:
    """Run driver SQL (``%(name)s`` parameters) on ``conn``'s own connection, in its transaction.

    For hot write paths: no SQLAlchemy compilation, caching or result processing (rows are named
    tuples of psycopg's values). Driver errors are raised as SQLAlchemy's (``DBAPIError`` and its
    subclasses), so the API maps them exactly as for every other statement.
    """
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("run_sql needs the psycopg driver (postgresql+psycopg://)")
    for observe in SQL_OBSERVERS:
        observe(raw, sql, params)
    cursor: psycopg.Cursor[Any] = raw.cursor(row_factory=namedtuple_row)
    try:
        return cursor.execute(sql, params)
    except psycopg.Error as error:
        raise DBAPIError.instance(sql, dict(params), error, psycopg.Error) from error
