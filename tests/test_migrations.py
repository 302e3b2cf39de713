"""Migrations (数据库迁移): up, down and up again, and no drift from the table definitions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from geoalchemy2 import alembic_helpers

from gis import migrate
from gis.db import make_engine
from gis.schema import metadata
from tests.databases import scratch_database


def test_upgrade_downgrade_upgrade_without_drift() -> None:
    with scratch_database("migrations") as settings:
        engine = make_engine(settings, pool_size=1)
        try:
            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"include_object": alembic_helpers.include_object, "compare_type": True}
                )
                assert compare_metadata(context, metadata) == []
            migrate.downgrade(engine, "base")
            assert migrate.current_revision(engine) is None
            assert set(inspect(engine).get_table_names()) <= {"alembic_version", "spatial_ref_sys"}
            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
        finally:
            engine.dispose()
