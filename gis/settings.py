"""Settings (配置): one object, built by the caller and passed down; never read at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_PORT = 55433


STATE_DIR = PROJECT_ROOT / ".villagemap"
DEFAULT_JWT_SECRET = "development-only-secret-change-me-in-production"
PASSFILE = STATE_DIR / "pgpass"


def local_database_url(port: int = LOCAL_PORT, dbname: str = "villagemap") -> str:
    """URL of the project-local cluster (本地数据库) that ``villagemap db up`` manages.

    The password never appears in the URL: libpq reads it from the git-ignored passfile that
    ``db up`` writes.
    """
    return f"postgresql+psycopg://villagemap@127.0.0.1:{port}/{dbname}?passfile={PASSFILE}"


def normalise_database_url(value: str) -> str:
    """Make any ``postgres://``/``postgresql://`` URL use the psycopg 3 driver."""
    for scheme in ("postgres://", "postgresql://"):
        if value.startswith(scheme):
            return "postgresql+psycopg://" + value[len(scheme) :]
    return value


class Settings(BaseSettings):
    """Everything VillageMap can be told from outside (env prefix ``VILLAGEMAP_``)."""

    model_config = SettingsConfigDict(env_prefix="VILLAGEMAP_", env_file=".env", extra="ignore", populate_by_name=True)

    database_url: Annotated[
        str,
        Field(validation_alias=AliasChoices("VILLAGEMAP_DATABASE_URL", "DATABASE_URL")),
    ] = ""
    local_db_port: int = Field(LOCAL_PORT, ge=1024, le=65535)
    local_db_dir: Path | None = None
    environment: Literal["development", "production"] = "development"
    statement_timeout_ms: int = Field(15_000, ge=100)
    default_limit: int = Field(100, ge=1)
    max_limit: int = Field(1000, ge=1)
    pool_size: int = Field(5, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_base_url: str = ""
    jwt_secret: str = DEFAULT_JWT_SECRET
    token_minutes: int = Field(480, ge=5, le=7 * 24 * 60)
    demo_password: str = "demo"
    photo_dir: Path = STATE_DIR / "photos"
    photo_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_vertices: int = Field(10_000, ge=4)
    max_json_bytes: int = Field(8 * 1024 * 1024, ge=64 * 1024)  # JSON request bodies (413 above)
    anonymous_reports_per_hour: int = Field(10, ge=0)
    trust_forwarded_for: bool = False
    tianditu_token: str = ""  # 天地图 browser key: offers Tianditu base maps when set

    @field_validator("database_url")
    @classmethod
    def _use_psycopg(cls, value: str) -> str:
        return normalise_database_url(value) if value else value

    @model_validator(mode="after")
    def _limits_and_defaults(self) -> Self:
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        if not self.database_url:
            self.database_url = local_database_url(self.local_db_port)
        return self

    def production_problems(self) -> list[str]:
        """Why this configuration must not serve in production (the serve command refuses)."""
        problems = []
        if self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32:
            problems.append(
                "VILLAGEMAP_JWT_SECRET 未设置或过短（至少 32 字符）/ set a secret of at least 32 characters"
            )
        return problems

    @property
    def uses_local_cluster(self) -> bool:
        """True when the URL points at the cluster that ``villagemap db up`` manages."""
        return self.database_url == local_database_url(self.local_db_port)
