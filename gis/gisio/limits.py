"""What a file must be before anything reads it (文件检查): size, type, archives that explode.

The format is recognised from the content (magic bytes), with the name as a hint; a name that
disagrees with the content is refused. Archives (Shapefile .zip, .kmz) are checked from their
directory before anything is expanded: the total expanded size, the expansion ratio, the number
of entries, and names that would leave the folder.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from gis.gisio.report import BadFile

MAX_FILE_BYTES: Final = 512 * 1024 * 1024
MAX_EXPANDED_BYTES: Final = 2 * 1024 * 1024 * 1024
MAX_RATIO: Final = 100
MAX_ENTRIES: Final = 1000
FORMATS: Final[dict[str, str]] = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "kml": "KML",
    "kmz": "KMZ",
    "csv": "CSV",
    "xlsx": "Excel (xlsx)",
}
_BY_SUFFIX: Final[dict[str, str]] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shp",
    ".kml": "kml",
    ".kmz": "kmz",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
}


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks: its format and, for archives, its member names."""

    path: Path
    format: str
    members: tuple[str, ...] = ()


def check_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse an oversize upload before reading it."""
    if size > limit:
        raise BadFile(
            "too_large",
            f"文件 {size // 1048576} MB，超过上限 {limit // 1048576} MB；请按乡镇或类别拆分后分批导入。",
            f"The file is {size // 1048576} MB, over the {limit // 1048576} MB limit; "
            "split it by township or category and import the parts.",
            size=size,
            limit=limit,
        )
    if size == 0:
        raise BadFile("empty", "文件为空。", "The file is empty.")


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"{") or text.startswith(b"["):
        return "geojson"
    if text.startswith(b"<?xml") or text.startswith(b"<kml"):
        return "kml"
    return None


def _zip_kind(path: Path) -> tuple[str, tuple[str, ...]]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise BadFile(
            "corrupt",
            "压缩包已损坏或不完整（可能上传中断），无法打开。",
            "The archive is corrupt or truncated (an interrupted upload?) and cannot be opened.",
        ) from None
    _check_archive(path, infos)
    names = tuple(i.filename for i in infos if not i.is_dir())
    lower = [n.lower() for n in names]
    if "[content_types].xml" in lower:
        return "xlsx", names
    if any(n.endswith(".kml") for n in lower) and not any(n.endswith(".shp") for n in lower):
        return "kmz", names
    if any(n.endswith(".shp") for n in lower):
        return "shp", names
    raise BadFile(
        "no_layer",
        "压缩包里没有 .shp（Shapefile）或 .kml（KMZ）文件。",
        "The archive holds no .shp (Shapefile) or .kml (KMZ) file.",
        members=list(names)[:20],
    )


def _check_archive(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    expanded = sum(i.file_size for i in infos)
    packed = max(path.stat().st_size, 1)
    if len(infos) > MAX_ENTRIES:
        raise BadFile(
            "archive_entries",
            f"压缩包含 {len(infos)} 个文件，超过上限 {MAX_ENTRIES}。",
            f"The archive holds {len(infos)} entries, over the limit of {MAX_ENTRIES}.",
        )
    if expanded > MAX_EXPANDED_BYTES or (expanded > MAX_RATIO * packed and expanded > 64 * 1024 * 1024):
        raise BadFile(
            "archive_bomb",
            f"压缩包解压后达 {expanded // 1048576} MB（压缩比 {expanded // packed}:1），疑似“压缩炸弹”，已拒绝。",
            f"The archive would expand to {expanded // 1048576} MB "
            f"({expanded // packed}:1); refused as a likely zip bomb.",
            expanded=expanded,
        )
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise BadFile(
                "archive_path",
                f"压缩包内的文件名“{info.filename}”指向包外，已拒绝。",
                f"The archive entry '{info.filename}' points outside the archive; refused.",
            )


def check_file(path: Path, filename: str) -> Checked:
    """Recognise a file's format from its content (and name) and check archives; or raise BadFile."""
    check_size(path.stat().st_size)
    with path.open("rb") as handle:
        head = handle.read(512)
    hint = _BY_SUFFIX.get(Path(filename).suffix.lower())
    kind = _sniff(head)
    if kind == "zip":
        kind, members = _zip_kind(path)
        return _agree(Checked(path, kind, members), hint, filename)
    if kind is None:
        if hint == "csv":
            return Checked(path, "csv")
        raise BadFile(
            "unknown_format",
            f"无法识别“{filename}”的格式。支持：{'、'.join(FORMATS.values())}。",
            f"Cannot tell the format of '{filename}'. Accepted: {', '.join(FORMATS.values())}.",
        )
    return _agree(Checked(path, kind), hint, filename)


def _agree(checked: Checked, hint: str | None, filename: str) -> Checked:
    compatible = {
        ("shp", "shp"),
        ("kmz", "shp"),
        ("kml", "kml"),
        ("kmz", "kmz"),
        ("xlsx", "xlsx"),
        ("gpkg", "gpkg"),
        ("geojson", "geojson"),
    }
    if hint is None or (checked.format, hint) in compatible or (checked.format == "kmz" and hint == "kmz"):
        return checked
    raise BadFile(
        "wrong_extension",
        f"“{filename}”的扩展名与内容不符：内容是 {FORMATS[checked.format]}。",
        f"'{filename}' has the wrong extension: its content is {FORMATS[checked.format]}.",
    )
