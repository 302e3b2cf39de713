"""Restorable dumps: vm_geom_ok names PostGIS functions with their schema.

pg_restore runs with an empty search_path, and the CHECK constraints that call ``vm_geom_ok`` then
could not find ``ST_SRID`` and the rest: a ``pg_dump`` of a VillageMap database did not restore.
The body is rewritten with the functions qualified by the schema PostGIS is installed in (usually
``public``), so it stays an inlinable SQL function.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

BODY = """
CREATE OR REPLACE FUNCTION vm_geom_ok(g geometry) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT {s}ST_SRID(g) = 4326 AND NOT {s}ST_IsEmpty(g) AND {s}ST_IsValid(g) AND {s}ST_NDims(g) = 2
     AND {s}GeometryType(g) IN ('POINT', 'LINESTRING', 'POLYGON',
                                'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON')
     AND {s}ST_XMin(g::{s}box3d) >= -180 AND {s}ST_XMax(g::{s}box3d) <= 180
     AND {s}ST_YMin(g::{s}box3d) >= -90 AND {s}ST_YMax(g::{s}box3d) <= 90
$$;
"""
OLD_BODY = """
CREATE OR REPLACE FUNCTION vm_geom_ok(g geometry) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_SRID(g) = 4326 AND NOT ST_IsEmpty(g) AND ST_IsValid(g) AND ST_NDims(g) = 2
     AND GeometryType(g) IN ('POINT', 'LINESTRING', 'POLYGON',
                             'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON')
     AND ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90
$$;
"""


def upgrade() -> None:
    schema = op.get_bind().execute(
        text("SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
             "WHERE e.extname = 'postgis'")
    ).scalar_one()  # fmt: skip
    op.execute(BODY.format(s=f"{schema}."))


def downgrade() -> None:
    op.execute(OLD_BODY)
