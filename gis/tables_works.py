"""Tables of the works (工程与设施): road and water projects with their progress figures, facilities."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from gis.db import metadata
from gis.tables import geometry_column, region_codes, stamps

project = Table(
    "project",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("code", String(24), nullable=False, unique=True),
    Column("category", String(40), nullable=False),
    Column("kind", String(10), nullable=False, server_default=text("'project'")),
    Column("subtype", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("geom", geometry_column(), nullable=False),
    *region_codes(grid=False),
    Column("status", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("planned_km", Numeric(10, 3)),
    Column("built_km", Numeric(10, 3)),
    Column("guardrail_km", Numeric(10, 3)),
    Column("speed_bumps", Integer),
    Column("area_mu", Numeric(12, 2)),
    Column("investment_wan", Numeric(12, 2)),
    Column("progress_pct", Numeric(5, 2), nullable=False, server_default=text("0")),
    Column("lead_unit_id", Integer, ForeignKey("unit.id")),
    Column("responsible_unit_ids", ARRAY(Integer), nullable=False, server_default=text("'{}'")),
    Column("construction_unit", Text),
    Column("supervision_unit", Text),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("deadline", Date),
    *stamps(),
    ForeignKeyConstraint(["category", "kind"], ["category.code", "category.kind"]),
    Index("project_geom_idx", "geom", postgresql_using="gist"),
    Index("project_county_code_category_idx", "county_code", "category"),
)

facility = Table(
    "facility",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("code", String(24), nullable=False, unique=True),
    Column("category", String(40), nullable=False),
    Column("kind", String(10), nullable=False, server_default=text("'facility'")),
    Column("subtype", Text),
    Column("name", Text, nullable=False),
    Column("geom", geometry_column("POINT"), nullable=False),
    *region_codes(grid=True),
    Column("state", String(10), nullable=False),
    Column("unit_id", Integer, ForeignKey("unit.id")),
    Column("target_date", Date),
    *stamps(),
    ForeignKeyConstraint(["category", "kind"], ["category.code", "category.kind"]),
    Index("facility_geom_idx", "geom", postgresql_using="gist"),
)
