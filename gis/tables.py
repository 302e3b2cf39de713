"""Table definitions (数据表) for queries and for checking the migrations; the migrations own the DDL.

Only columns, keys and indexes live here; CHECK constraints, triggers and SQL functions are in
``gis/migrations`` (the database enforces them whatever the writer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from geoalchemy2 import Geometry

from gis.db import metadata

SRID = 4326


def geometry_column(kind: str = "GEOMETRY") -> Geometry:
    """A geometry column type in the storage SRID; GiST indexes are declared explicitly."""
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=False)


def region_codes(*, grid: bool) -> list[Column[str]]:
    """The county/township/village (and grid) code columns of a located row (区划代码)."""
    cols: list[Column[str]] = [
        Column("county_code", String(6), ForeignKey("region.code"), nullable=False),
        Column("township_code", String(9), ForeignKey("region.code"), nullable=not grid),
        Column("village_code", String(12), ForeignKey("region.code"), nullable=not grid),
    ]
    if grid:
        cols.append(Column("grid_code", String(15), ForeignKey("region.code"), nullable=False))
    return cols


def stamps() -> list[Column[Any]]:
    """The synthetic flag, source, version and creation/update stamps every located row carries."""
    return [
        Column("synthetic", Boolean, nullable=False, server_default=text("false")),
        Column("source", String(16), nullable=False),
        Column("version", Integer, nullable=False, server_default=text("1")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ]


region = Table(
    "region",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("level", String(8), nullable=False),
    Column("name", Text, nullable=False),
    Column("official_name", Text, nullable=False),
    Column("name_en", Text),
    Column("parent_code", String(15), ForeignKey("region.code")),
    Column("county_code", String(6), nullable=False),
    Column("ur_code", String(3)),
    Column("geom", geometry_column("MULTIPOLYGON"), nullable=False),
    Column("seat", geometry_column("POINT")),
    Column("synthetic", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    Index("region_parent_code_idx", "parent_code"),
    Index("region_geom_idx", "geom", postgresql_using="gist"),
    Index(
        "region_grid_geom_idx",
        "geom",
        postgresql_using="gist",
        postgresql_where=text("level = 'grid'"),
    ),
)

category = Table(
    "category",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("label_zh", Text, nullable=False),
    Column("label_en", Text, nullable=False),
    Column("aliases_zh", Text),
    Column("geometry_types", ARRAY(Text), nullable=False),
    Column("closeout_radius_m", REAL, nullable=False),
    Column("duplicate_radius_m", REAL, nullable=False),
    Column("accuracy_limit_m", REAL, nullable=False),
    Column("default_deadline_days", Integer),
    Column("private_location", Boolean, nullable=False),
    Column("quota_hint", Text),
    Column("subtypes", ARRAY(Text), nullable=False),
    Column("attributes", JSONB, nullable=False),
    Column("color", String(7), nullable=False),
    Column("symbol", String(24), nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("closeout_rules", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    UniqueConstraint("code", "kind"),
)

unit = Table(
    "unit",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("name_en", Text),
    Column("kind", String(20), nullable=False),
    Column("area_code", String(15), ForeignKey("region.code")),
)

case_code_counter = Table(
    "case_code_counter",
    metadata,
    Column("county_code", String(6), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("code", String(24), nullable=False, unique=True),
    Column("category", String(40), nullable=False),
    Column("kind", String(10), nullable=False, server_default=text("'problem'")),
    Column("subtype", Text),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("geom", geometry_column(), nullable=False),
    *region_codes(grid=True),
    Column("status", String(12), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("deadline", Date),
    Column("lead_unit_id", Integer, ForeignKey("unit.id")),
    Column("responsible_unit_ids", ARRAY(Integer), nullable=False, server_default=text("'{}'")),
    Column("assignee_unit_id", Integer, ForeignKey("unit.id")),
    Column("assignee_user", Text),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    *stamps(),
    Column("created_by", Integer, ForeignKey("app_user.id")),
    Column("possible_duplicates", ARRAY(BigInteger), nullable=False, server_default=text("'{}'")),
    Column("duplicate_of", BigInteger, ForeignKey("cases.id")),
    Column("closed_on_time", Boolean),
    Column("external_id", Text),
    Column("import_batch_id", BigInteger, ForeignKey("import_batch.id")),
    Column("location_approximate", Boolean, nullable=False, server_default=text("false")),
    Column("remedied_geom", geometry_column()),
    Column("review_on", Date),
    Column("extension_requested", Date),
    Column("round", Integer, nullable=False, server_default=text("1")),
    ForeignKeyConstraint(["category", "kind"], ["category.code", "category.kind"]),
    Index("cases_geom_idx", "geom", postgresql_using="gist"),
    Index("cases_assignee_unit_id_status_idx", "assignee_unit_id", "status"),
    Index("cases_external_id_key", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL")),
    Index("cases_grid_code_status_idx", "grid_code", "status"),
    Index("cases_village_code_status_idx", "village_code", "status"),
    Index("cases_category_status_idx", "category", "status"),
    # One per OGC collection geometry type (migration 0007): ids of a collection in id order.
    Index("cases_points_idx", "category", "id", postgresql_where=text("ST_Dimension(geom) = 0")),
    Index("cases_lines_idx", "category", "id", postgresql_where=text("ST_Dimension(geom) = 1")),
    Index("cases_polygons_idx", "category", "id", postgresql_where=text("ST_Dimension(geom) = 2")),
    # The bbox page of a point collection from the index alone (migration 0008).
    Index(
        "cases_points_geom_idx",
        "geom",
        postgresql_using="gist",
        postgresql_include=["category", "id", "geom"],
        postgresql_where=text("ST_Dimension(geom) = 0"),
    ),
)

case_reporter = Table(
    "case_reporter",
    metadata,
    Column("case_id", BigInteger, ForeignKey("cases.id"), primary_key=True),
    Column("county_code", String(6), nullable=False),
    Column("name", Text),
    Column("phone", Text),
    Column("erased_at", DateTime(timezone=True)),
    Column("client_key", String(64)),
)

case_event = Table(
    "case_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("case_id", BigInteger, ForeignKey("cases.id"), nullable=False),
    Column("county_code", String(6), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(12)),
    Column("to_status", String(12), nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("position", geometry_column("POINT")),
    Column("accuracy_m", REAL),
    Column("note", Text),
    Column("photo_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("actor_id", Integer, ForeignKey("app_user.id")),
    Column("actor_role", String(20)),
    Column("position_datum", String(10)),
    Index("case_event_case_id_at_idx", "case_id", "at"),
)

base_line = Table(
    "base_line",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_en", Text),
    Column("geom", geometry_column("MULTILINESTRING"), nullable=False),
    Column("county_code", String(6), ForeignKey("region.code")),
    Column("synthetic", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    Index("base_line_geom_idx", "geom", postgresql_using="gist"),
)

app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("unit_id", Integer, ForeignKey("unit.id")),
    Column("password_hash", Text, nullable=False),
    Column("token_version", Integer, nullable=False, server_default=text("1")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("is_demo", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("password_changed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

user_area = Table(
    "user_area",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=False),
    Column("area_code", String(15), ForeignKey("region.code"), nullable=False),
    Column("from_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("to_at", DateTime(timezone=True)),
    Index("user_area_user_id_idx", "user_id", postgresql_where=text("to_at IS NULL")),
    Index("user_area_area_code_idx", "area_code"),
    Index("user_area_one_open_key", "user_id", "area_code", unique=True, postgresql_where=text("to_at IS NULL")),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("prefix", String(12), nullable=False, unique=True),
    Column("secret_hash", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("app_user.id")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

photo = Table(
    "photo",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("content_type", String(16), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("exif_position", geometry_column("POINT")),
    Column("exif_time", DateTime(timezone=True)),
    Column("uploaded_by", Integer, ForeignKey("app_user.id")),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("client_key", Text, primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("body", Text),
    Column("media_type", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

report_quota = Table(
    "report_quota",
    metadata,
    Column("client_key", String(64), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("count", Integer, nullable=False),
)
