"""Tables of the office work (内业): campaigns, contractor scores and schemes, import batches."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from gis.db import metadata

campaign = Table(
    "campaign",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("area_code", String(15), ForeignKey("region.code"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("source", Text, nullable=False, server_default=text("''")),
)

campaign_phase = Table(
    "campaign_phase",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaign.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    UniqueConstraint("campaign_id", "seq", name="campaign_phase_seq_key"),
)

campaign_quota = Table(
    "campaign_quota",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaign.id"), nullable=False),
    Column("category", String(40), ForeignKey("category.code"), nullable=False),
    Column("per", String(8), nullable=False, server_default=text("'week'")),
    Column("level", String(8), nullable=False, server_default=text("'village'")),
    Column("min_count", Integer, nullable=False),
    Column("phase_seq", Integer),
)

campaign_target = Table(
    "campaign_target",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaign.id"), nullable=False),
    Column("category", String(40), ForeignKey("category.code"), nullable=False),
    Column("target_count", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
)

contractor_score = Table(
    "contractor_score",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("unit_id", Integer, ForeignKey("unit.id"), nullable=False),
    Column("month", Date, nullable=False),
    Column("scorer_level", String(8), nullable=False),
    Column("area_code", String(15), ForeignKey("region.code"), nullable=False),
    Column("scorer_id", Integer, ForeignKey("app_user.id")),
    Column("items", JSONB, nullable=False),
    Column("total", Numeric(5, 2), nullable=False),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("contractor_score_unit_id_month_idx", "unit_id", "month"),
)

contractor_scheme = Table(
    "contractor_scheme",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("unit_id", Integer, ForeignKey("unit.id"), nullable=False),
    Column("from_month", Date, nullable=False),
    Column("township_weight", Numeric(4, 3), nullable=False),
    Column("village_weight", Numeric(4, 3), nullable=False),
    Column("items", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("unit_id", "from_month", name="contractor_scheme_unit_id_from_month_key"),
)

import_batch = Table(
    "import_batch",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("filename", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(16), nullable=False),
    Column("declared_crs", String(40)),
    Column("user_id", Integer, ForeignKey("app_user.id")),
    Column("row_count", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
