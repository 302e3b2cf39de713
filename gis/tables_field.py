"""Tables of the field work (外业): road network, patrols, project progress, facility events."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)

from gis.db import metadata
from gis.tables import geometry_column

road_vertex = Table(
    "road_vertex",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("geom", geometry_column("POINT"), nullable=False),
    Index("road_vertex_geom_idx", "geom", postgresql_using="gist"),
)

road_edge = Table(
    "road_edge",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("source", BigInteger, ForeignKey("road_vertex.id"), nullable=False),
    Column("target", BigInteger, ForeignKey("road_vertex.id"), nullable=False),
    Column("cost", Float(53), nullable=False),
    Column("reverse_cost", Float(53), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("name", Text),
    Column("base_line_id", Integer, ForeignKey("base_line.id")),
    Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("geom", geometry_column("LINESTRING"), nullable=False),
    Index("road_edge_geom_idx", "geom", postgresql_using="gist"),
    Index("road_edge_source_idx", "source"),
    Index("road_edge_target_idx", "target"),
)

patrol_rule = Table(
    "patrol_rule",
    metadata,
    Column("level", String(8), primary_key=True),
    Column("min_minutes", Integer, nullable=False),
    Column("min_km", Numeric(6, 2), nullable=False),
    Column("per_days", Integer, nullable=False),
)

patrol = Table(
    "patrol",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("grid_code", String(15), ForeignKey("region.code"), nullable=False),
    Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("user_id", Integer, ForeignKey("app_user.id")),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("track", geometry_column("LINESTRING"), nullable=False),
    Column("times", ARRAY(DateTime(timezone=True)), nullable=False),
    Column("length_m", Float(53), nullable=False),
    Column("duration_s", Float(53), nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("invalid_reasons", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("passed_case_ids", ARRAY(BigInteger), nullable=False, server_default=text("'{}'")),
    Column("source", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("patrol_grid_code_started_at_idx", "grid_code", "started_at"),
    Index("patrol_track_idx", "track", postgresql_using="gist"),
)

project_progress = Table(
    "project_progress",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("project_id", Integer, ForeignKey("project.id"), nullable=False),
    Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("reported_on", Date, nullable=False),
    Column("built_geom", geometry_column()),
    Column("built_km", Numeric(10, 3)),
    Column("guardrail_km", Numeric(10, 3)),
    Column("speed_bumps", Integer),
    Column("area_mu", Numeric(12, 2)),
    Column("spent_wan", Numeric(12, 2)),
    Column("progress_pct", Numeric(5, 2)),
    Column("status_from", String(20), nullable=False),
    Column("status_to", String(20), nullable=False),
    Column("note", Text),
    Column("photo_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("actor_id", Integer, ForeignKey("app_user.id")),
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("project_progress_project_id_idx", "project_id", "reported_on"),
)

facility_event = Table(
    "facility_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("facility_id", Integer, ForeignKey("facility.id"), nullable=False),
    Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("from_state", String(10), nullable=False),
    Column("to_state", String(10), nullable=False),
    Column("note", Text),
    Column("photo_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("position", geometry_column("POINT")),
    Column("actor_id", Integer, ForeignKey("app_user.id")),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("facility_event_facility_id_idx", "facility_id", "at"),
)
