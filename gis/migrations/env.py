"""Alembic environment: uses the connection the caller passes, or builds one from Settings()."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from geoalchemy2 import alembic_helpers

import gis.schema  # noqa: F401  (registers every table on the metadata)
from gis.db import make_engine, metadata
from gis.settings import Settings


def _configure_and_run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run against ``config.attributes['connection']`` or a fresh engine from the settings."""
    conn = context.config.attributes.get("connection")
    if conn is not None:
        _configure_and_run(conn)
        return
    engine = make_engine(Settings(), pool_size=1)
    with engine.connect() as fresh:
        _configure_and_run(fresh)
        fresh.commit()
    engine.dispose()


run_online()
