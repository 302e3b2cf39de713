"""The villagemap command (命令行) against the test database."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app as cli
from gis.migrate import head_revision
from gis.settings import Settings


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {"VILLAGEMAP_DATABASE_URL": settings.database_url, **extra}


def test_serve_refuses_production_with_defaults_and_demo_accounts(settings: Settings, sample: object) -> None:
    del sample
    result = CliRunner().invoke(cli, ["serve"], env=_env(settings, VILLAGEMAP_ENVIRONMENT="production"))
    assert result.exit_code == 1
    assert "VILLAGEMAP_JWT_SECRET" in result.output and "demo-admin" in result.output
    strong = _env(settings, VILLAGEMAP_ENVIRONMENT="production", VILLAGEMAP_JWT_SECRET="x" * 40)
    again = CliRunner().invoke(cli, ["serve"], env=strong)
    assert again.exit_code == 1 and "VILLAGEMAP_JWT_SECRET" not in again.output and "demo-grid-manager" in again.output


def test_db_status_and_idempotent_load(settings: Settings, sample: object) -> None:
    del sample
    status = CliRunner().invoke(cli, ["db", "status"], env=_env(settings))
    assert status.exit_code == 0 and f"{head_revision()} (head {head_revision()})" in status.output
    load = CliRunner().invoke(cli, ["load-sample"], env=_env(settings))
    assert load.exit_code == 0 and "跳过" in load.output
