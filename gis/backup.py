"""Backup and restore (备份与恢复): the database (pg_dump custom format) and the photo store in one tar.

The archive holds ``manifest.json`` (format, schema revision, rows and an md5 of the ordered row text per
table, sha256 per photo file), ``database.dump`` and ``photos/…`` (the store's files by relative path).
A restore goes into an *empty* database (one with PostGIS but no tables of ours) and an empty photo
store; with ``force`` it first clears both. pg_restore runs in a single transaction and skips the
extensions (they come from the database template, and only a superuser may create them); afterwards
every table's count and checksum and every photo's hash are compared with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from gis.localdb import pg_bin
from gis.settings import Settings

FORMAT = "villagemap-backup/1"
DUMP = "database.dump"
MANIFEST = "manifest.json"
PHOTOS = "photos/"
_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relname
"""


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message (Chinese, then English) says what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh}\n{en}")
        self.detail_zh, self.detail_en = zh, en


@dataclass(frozen=True)
class TableSum:
    """One table's row count and md5 of its rows' text in order (表校验和)."""

    rows: int
    md5: str


def libpq_url(settings: Settings) -> str:
    """The database URL as libpq (pg_dump, psycopg) reads it."""
    return make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def table_sums(url: str) -> dict[str, TableSum]:
    """Rows and md5 of the ordered row text of every table of ours (not the extensions')."""
    sums: dict[str, TableSum] = {}
    with psycopg.connect(url, autocommit=True, options="-c timezone=UTC") as conn:
        for (name,) in conn.execute(_TABLES).fetchall():
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
            )
            count, digest = conn.execute(query.format(sql.Identifier(name))).fetchone() or (0, "")
            sums[str(name)] = TableSum(int(count), str(digest))
    return sums


def photo_files(root: Path) -> dict[str, str]:
    """sha256 of every file in the photo store by relative path (temporary files left out)."""
    found: dict[str, str] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what}失败：{done.stderr.strip()[-1500:]}", f"{what} failed: {done.stderr.strip()[-1500:]}")


def _revision(url: str) -> str | None:
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0]:  # type: ignore[index]
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


def backup(settings: Settings, archive: Path) -> dict[str, Any]:
    """Write the database and the photo store to ``archive`` (a tar); returns the manifest."""
    url = libpq_url(settings)
    with tempfile.TemporaryDirectory(prefix="villagemap-backup-") as tmp:
        dump = Path(tmp) / DUMP
        _run([str(pg_bin("pg_dump")), "--format=custom", "--no-owner", "--no-acl", "-f", str(dump), "-d", url],
             "pg_dump 导出 / pg_dump ")  # fmt: skip
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": _revision(url),
            "tables": {name: vars(s) for name, s in table_sums(url).items()},
            "photos": photo_files(settings.photo_dir),
        }
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            tar.add(dump, arcname=DUMP)
            for rel in manifest["photos"]:
                tar.add(settings.photo_dir / rel, arcname=PHOTOS + rel)
        os.replace(partial, archive)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The manifest of an archive; refuses files that are not VillageMap backups."""
    try:
        member = tar.extractfile(MANIFEST)
        manifest: dict[str, Any] = json.loads(member.read()) if member else {}
    except (KeyError, ValueError):
        manifest = {}
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"这不是 VillageMap 备份文件（缺少 {MANIFEST} 或格式不是 {FORMAT}）。请选择 villagemap backup 生成的文件。",
            f"This is not a VillageMap backup ({MANIFEST} missing or not {FORMAT}). "
            "Pick a file written by villagemap backup.",
        )
    return manifest


def _non_empty(url: str, photo_dir: Path) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [str(r[0]) for r in conn.execute(_TABLES).fetchall()]
    files = list(photo_files(photo_dir))
    return [f"表 tables: {', '.join(tables[:5])}"] * bool(tables) + [f"照片 photo files: {len(files)}"] * bool(files)


_EXTENSION_ENTRY = re.compile(r" EXTENSION | TABLE DATA public (spatial_ref_sys|topology|layer) ")
_OURS = """
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                      ELSE 'TABLE' END, quote_ident(c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
UNION ALL
SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'TYPE', quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
"""
_DROP = {kind: sql.SQL(f"DROP {kind} IF EXISTS {{}} CASCADE") for kind in
         ("TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FUNCTION", "TYPE")}  # fmt: skip


def _wipe(url: str, photo_dir: Path) -> None:
    """Drop every table, view, sequence, function and type of ours (never the extensions'); empty the store.

    Names come from the catalogue already quoted (``quote_ident``, ``regprocedure``), never from input.
    """
    with psycopg.connect(url) as conn, conn.transaction():
        for kind, name in conn.execute(_OURS).fetchall():
            conn.execute(_DROP[str(kind)].format(sql.SQL(str(name))))
    if photo_dir.is_dir():
        for child in photo_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def _restore_list(dump: Path) -> Path:
    """pg_restore's table of contents without the extensions and their reference data (the template has them)."""
    listing = subprocess.run([str(pg_bin("pg_restore")), "-l", str(dump)], check=True, capture_output=True, text=True)
    kept = [line for line in listing.stdout.splitlines() if not _EXTENSION_ENTRY.search(line)]
    path = dump.with_suffix(".list")
    path.write_text("\n".join(kept) + "\n")
    return path


def restore(settings: Settings, archive: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore ``archive`` into the (empty) database and photo store of ``settings``; returns the manifest."""
    url = libpq_url(settings)
    found = _non_empty(url, settings.photo_dir)
    if found and not force:
        raise BackupError(
            f"目标不是空的（{'；'.join(found)}）。请恢复到新建的空数据库和空照片目录，"
            "或加 --force 覆盖（会删除现有数据）。",
            f"The target is not empty ({'; '.join(found)}). Restore into a new empty database and an empty photo "
            "folder, or add --force to replace what is there (its data will be deleted).",
        )
    with tarfile.open(archive, "r") as tar, tempfile.TemporaryDirectory(prefix="villagemap-restore-") as tmp:
        manifest = read_manifest(tar)
        if found:
            _wipe(url, settings.photo_dir)
        tar.extractall(tmp, filter="data")
        dump = Path(tmp) / DUMP
        _run([str(pg_bin("pg_restore")), "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
              "-L", str(_restore_list(dump)), "-d", url, str(dump)], "pg_restore 恢复 / pg_restore ")  # fmt: skip
        _restore_photos(Path(tmp) / PHOTOS, settings.photo_dir, manifest["photos"])
    verify(settings, manifest)
    return manifest


def _restore_photos(source: Path, root: Path, expected: dict[str, str]) -> None:
    for rel in expected:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)


def verify(settings: Settings, manifest: dict[str, Any]) -> None:
    """Compare the database and photo store with the manifest; raise naming the first difference."""
    sums = {name: vars(s) for name, s in table_sums(libpq_url(settings)).items()}
    for name, expected in manifest["tables"].items():
        if sums.get(name) != expected:
            raise BackupError(
                f"恢复后表 {name} 与备份不一致（{sums.get(name)} ≠ {expected}）。备份文件可能已损坏。",
                f"After the restore table {name} differs from the backup ({sums.get(name)} != {expected}). "
                "The backup file may be damaged.",
            )
    photos = photo_files(settings.photo_dir)
    wrong = [rel for rel, digest in manifest["photos"].items() if photos.get(rel) != digest]
    if wrong:
        raise BackupError(
            f"恢复后有 {len(wrong)} 个照片文件与备份不一致（如 {wrong[0]}）。备份文件可能已损坏。",
            f"After the restore {len(wrong)} photo files differ from the backup (e.g. {wrong[0]}). "
            "The backup file may be damaged.",
        )
