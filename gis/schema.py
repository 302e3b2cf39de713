"""Every table definition (全部数据表), for Alembic and the drift check: import this, not one module."""

from __future__ import annotations

from gis import tables, tables_field, tables_office, tables_works
from gis.db import metadata

__all__ = ["metadata", "tables", "tables_field", "tables_office", "tables_works"]
