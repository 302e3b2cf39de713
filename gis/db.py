"""Engine and metadata (数据库连接): built from settings by the caller, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, create_engine, text

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
