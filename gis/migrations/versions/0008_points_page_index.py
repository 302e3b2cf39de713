"""Points page index: a bbox page of a point collection answered from the index alone.

A sorted bbox page (OGC ``/items?bbox=…``, ordered by id) must check every case in the box —
category, geometry type and the exact ``ST_Intersects`` — before it knows the page's first ids:
12,196 cases in the densest 2 km box of the 1M bench, each a heap row to visit. This partial GiST
index (点图层分页索引) over point cases carries ``category``, ``id`` and the point itself as
INCLUDE columns, so the same checks run on index tuples (an index-only scan, no heap row) and the
results stay exact (the included ``geom`` is the stored value, not the index's float box). Only
points: their geometries are a few dozen bytes, a polygon's could be kilobytes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX cases_points_geom_idx ON cases USING gist (geom) INCLUDE (category, id, geom) "
        "WHERE ST_Dimension(geom) = 0"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS cases_points_geom_idx")
