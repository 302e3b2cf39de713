"""Collection indexes: the ids of an OGC collection (category + geometry type) in id order.

An OGC collection of cases is ``category = … AND ST_Dimension(geom) = …`` (问题图层: one category,
one geometry type). A partial index per geometry dimension on ``(category, id)`` gives the ids of
a collection in id order — an unfiltered page walks it, and ``numberMatched`` counts up to its
budget with an index-only scan (an expression index on ``ST_Dimension(geom)`` cannot: PostgreSQL
then still needs ``geom`` from the heap). The extended statistics on ``(category, ST_Dimension(geom))``
give the planner the real share of each collection: without them it guessed 0.5 % for the
dimension test and joined and sorted every case of an unfiltered page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: Index name → its predicate: points, lines, polygons, as the collections split cases (gis.tables).
PREDICATES = {
    "cases_points_idx": "ST_Dimension(geom) = 0",
    "cases_lines_idx": "ST_Dimension(geom) = 1",
    "cases_polygons_idx": "ST_Dimension(geom) = 2",
}


def upgrade() -> None:
    for name, predicate in PREDICATES.items():
        op.create_index(name, "cases", ["category", "id"], postgresql_where=text(predicate))
    op.execute("CREATE STATISTICS cases_category_dimension ON category, (ST_Dimension(geom)) FROM cases")
    op.execute("ANALYZE cases")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS cases_category_dimension")
    for name in PREDICATES:
        op.drop_index(name, table_name="cases")
