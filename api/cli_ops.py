"""Operations commands of ``villagemap`` (运维命令): backup, restore and the photo store check.

``villagemap backup -o FILE.tar`` writes the database (pg_dump custom format) and the photo store with
a manifest; ``villagemap restore FILE.tar [--force]`` puts them back into an empty database and photo
folder (the ones the settings name) and checks every table and photo against the manifest;
``villagemap photos-check [--sweep]`` compares the photo table with the store (after a crash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis.backup import BackupError, backup, restore
from gis.db import make_engine
from gis.photo_audit import audit, sweep
from gis.settings import Settings


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def backup_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="备份文件（.tar）/ the archive to write")],
) -> None:
    """备份数据库与照片 / back up the database and the photo store into one archive."""
    settings = Settings()
    try:
        manifest = backup(settings, output)
    except BackupError as exc:
        _fail(str(exc))
        return
    rows = sum(t["rows"] for t in manifest["tables"].values())
    typer.echo(
        f"已备份 / backed up: {output} ({output.stat().st_size // 1024} KB): "
        f"{len(manifest['tables'])} 表 tables, {rows} 行 rows, {len(manifest['photos'])} 照片文件 photo files"
    )


def restore_cmd(
    archive: Annotated[Path, typer.Argument(help="villagemap backup 生成的文件 / a file from villagemap backup")],
    force: Annotated[bool, typer.Option(help="清空并覆盖非空的目标 / wipe and replace a non-empty target")] = False,
) -> None:
    """恢复到空数据库与空照片目录 / restore into an empty database and photo folder."""
    if not archive.is_file():
        _fail(f"找不到备份文件 {archive} / no such backup file: {archive}")
        return
    try:
        manifest = restore(Settings(), archive, force=force)
    except BackupError as exc:
        _fail(str(exc))
        return
    typer.echo(
        f"已恢复并核对 / restored and verified: {len(manifest['tables'])} 表 tables, "
        f"{len(manifest['photos'])} 照片文件 photo files (schema {manifest['revision']})"
    )


def photos_check_cmd(
    do_sweep: Annotated[bool, typer.Option("--sweep", help="删除无记录的照片文件 / delete files no row names")] = False,
    grace_minutes: Annotated[float, typer.Option(help="只删除更早的文件 / only files older than this")] = 60,
) -> None:
    """核对照片库与数据库 / compare the photo store with the photo table (exit 1 when they differ)."""
    settings = Settings()
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.begin() as conn:
            removed = sweep(conn, settings.photo_dir, older_than_s=grace_minutes * 60) if do_sweep else []
            found = audit(conn, settings.photo_dir)
    finally:
        engine.dispose()
    if removed:
        typer.echo(f"已删除无记录的照片文件 / removed files without a row: {len(removed)}")
    typer.echo(
        f"缺文件的照片记录 / rows without a file: {len(found.rows_without_file)}; "
        f"无记录的照片文件 / files without a row: {len(found.files_without_row)}"
    )
    for photo_id in found.rows_without_file[:20]:
        typer.echo(f"  缺文件 / missing: {photo_id}")
    for path in found.files_without_row[:20]:
        typer.echo(f"  无记录 / stray: {path}")
    if found.rows_without_file or found.files_without_row:
        raise typer.Exit(code=1)


def register_ops_commands(app: typer.Typer) -> None:
    """Add ``backup``, ``restore`` and ``photos-check`` to the ``villagemap`` command."""
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("photos-check")(photos_check_cmd)
