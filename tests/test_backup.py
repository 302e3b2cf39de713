"""Backup and restore (备份与恢复): ``villagemap backup`` then ``restore`` gives the same rows and photos."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app
from data.load import load_sample
from gis import migrate
from gis.backup import libpq_url
from gis.db import make_engine
from gis.photos import PhotoStore
from gis.photos_db import register_photo
from gis.settings import Settings
from tests.conftest import NOW
from tests.databases import scratch_database
from tests.lifecycle import jpeg

runner = CliRunner()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A database with the schema, a small sample and three photos (one with EXIF GPS)."""
    with scratch_database("backup_src") as scratch:
        settings = scratch.model_copy(update={"photo_dir": tmp_path_factory.mktemp("photos-backup-src")})
        engine = make_engine(settings, pool_size=1)
        migrate.upgrade(engine)
        load_sample(engine, now=NOW, cases=200)
        store = PhotoStore(settings.photo_dir)
        with engine.begin() as conn:
            for seed, gps in ((1, None), (2, (106.2, 38.9)), (3, None)):
                register_photo(conn, store.save(jpeg(gps, seed=seed)), None)
        engine.dispose()
        yield settings


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    """An empty database (PostGIS only) and an empty photo folder."""
    with scratch_database("backup_dst") as scratch:
        yield scratch.model_copy(update={"photo_dir": tmp_path / "photos"})


def _use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("VILLAGEMAP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VILLAGEMAP_PHOTO_DIR", str(settings.photo_dir))


#: Computed here, independently of gis.backup.table_sums, so a fault there cannot hide itself.
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys' ORDER BY 1"
ROWS_MD5 = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t")


def _fingerprint(settings: Settings) -> dict[str, tuple[int, str]]:
    """Rows and md5 of the ordered row text of every table, and every sequence's position."""
    found: dict[str, tuple[int, str]] = {}
    with psycopg.connect(libpq_url(settings)) as conn:
        tables = conn.execute(TABLES).fetchall()
        for (name,) in tables:
            count, digest = conn.execute(ROWS_MD5.format(sql.Identifier(name))).fetchone() or (0, "")
            found[str(name)] = (int(count), str(digest))
        for name, last in conn.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"):
            found[f"sequence {name}"] = (int(last or 0), "")
    return found


def _photos(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _backup(monkeypatch: pytest.MonkeyPatch, source: Settings, archive: Path) -> None:
    _use(monkeypatch, source)
    done = runner.invoke(app, ["backup", "-o", str(archive)])
    assert done.exit_code == 0, done.output


def test_round_trip_is_identical(
    source: Settings, target: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "villagemap.tar"
    _backup(monkeypatch, source, archive)
    _use(monkeypatch, target)
    done = runner.invoke(app, ["restore", str(archive)])
    assert done.exit_code == 0, done.output
    before, after = _fingerprint(source), _fingerprint(target)
    assert before["cases"][0] > 0 and before["case_event"][0] > 0 and before["photo"][0] == 3
    assert after == before
    engine = _engine(target)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    photos = _photos(source.photo_dir)
    assert len([p for p in photos if p.startswith("originals/")]) == 3
    assert _photos(target.photo_dir) == photos


def _engine(settings: Settings) -> Engine:
    return make_engine(settings, pool_size=1)


def test_restore_refuses_a_non_empty_target_unless_forced(
    source: Settings, target: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "villagemap.tar"
    _backup(monkeypatch, source, archive)
    engine = _engine(target)
    migrate.upgrade(engine)
    load_sample(engine, now=NOW, cases=20, seed=7)
    engine.dispose()
    before = _fingerprint(target)
    _use(monkeypatch, target)
    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "目标不是空的" in refused.output and "not empty" in refused.output and "--force" in refused.output
    assert _fingerprint(target) == before
    forced = runner.invoke(app, ["restore", str(archive), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _fingerprint(target) == _fingerprint(source)
    assert _photos(target.photo_dir) == _photos(source.photo_dir)


def test_restore_refuses_a_file_that_is_not_a_backup(
    target: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "notes.tar"
    bogus.write_bytes(b"\0" * 10240)  # an empty tar archive: no manifest
    _use(monkeypatch, target)
    done = runner.invoke(app, ["restore", str(bogus)])
    assert done.exit_code == 1
    assert "不是 VillageMap 备份文件" in done.output and "not a VillageMap backup" in done.output
    assert _fingerprint(target) == {}


def test_photos_check_finds_and_sweeps_a_stray_file(source: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    stray_id = "0" * 64
    stray = source.photo_dir / "originals" / "00" / "00" / f"{stray_id}.jpg"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(jpeg(seed=99))
    kept = _photos(source.photo_dir)
    _use(monkeypatch, source)
    found = runner.invoke(app, ["photos-check"])
    assert found.exit_code == 1 and "files without a row: 1" in found.output and stray_id in found.output
    young = runner.invoke(app, ["photos-check", "--sweep"])  # younger than the grace period: kept
    assert young.exit_code == 1 and stray.exists()
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    swept = runner.invoke(app, ["photos-check", "--sweep"])
    assert swept.exit_code == 0, swept.output
    assert "removed files without a row: 1" in swept.output and "rows without a file: 0" in swept.output
    assert not stray.exists()
    assert _photos(source.photo_dir) == {k: v for k, v in kept.items() if stray_id not in k}
