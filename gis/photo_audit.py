"""Photo store audit (照片核对): rows without a file, and files without a row.

An upload writes the original (fsync'd) *before* its row commits, so a crash between the two can leave
an original no row names: never a photo anyone was told was saved (the 2xx comes after the commit),
but a stray file. ``sweep`` removes such files (and their derived copies) once they are older than a
grace period, so an upload still in flight is never touched. A row without its file is a real loss
and is only reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

DERIVED = ("thumbs", "public")


@dataclass(frozen=True)
class PhotoAudit:
    """Photo ids whose row has no original file, and originals (paths) whose id has no row."""

    rows_without_file: list[str]
    files_without_row: list[Path]


def originals(root: Path) -> dict[str, Path]:
    """Stored originals by id (sha256), temporary files left out."""
    folder = root / "originals"
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")}


def audit(conn: Connection, root: Path) -> PhotoAudit:
    """Compare the photo table with the originals in the store."""
    rows = {str(r[0]) for r in conn.execute(text("SELECT id FROM photo"))}
    files = originals(root)
    return PhotoAudit(sorted(rows - files.keys()), sorted(p for i, p in files.items() if i not in rows))


def sweep(conn: Connection, root: Path, *, older_than_s: float = 3600) -> list[Path]:
    """Delete originals without a row (older than the grace period) and their copies; returns them."""
    cutoff = time.time() - older_than_s
    removed = [p for p in audit(conn, root).files_without_row if p.stat().st_mtime < cutoff]
    for path in removed:
        photo_id = path.stem
        for kind in DERIVED:
            for copy in (root / kind / photo_id[:2] / photo_id[2:4]).glob(f"{photo_id}-*"):
                copy.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    return removed
