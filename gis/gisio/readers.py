"""Reading GIS files (读取空间数据) with pyogrio (GDAL): GeoJSON, GeoPackage, Shapefile zip, KML/KMZ.

Every layer of a file is read and the rows concatenated (KML folders from 奥维 Ovital or Google
Earth, the point/line/polygon Shapefiles of one zip). Archives are expanded by us, member by
member, never past the sizes their directory declares. Shapefile text is decoded as its ``.cpg``
says; without one the ``.dbf`` is tried as UTF-8 and then GBK. A ``.cpg`` that contradicts the
bytes is refused rather than guessed around. Geometry stays in the file's CRS here.
"""

from __future__ import annotations

import logging
import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio  # type: ignore[import-untyped]
import pyogrio.errors  # type: ignore[import-untyped]
from numpy.typing import NDArray
from pyogrio.raw import read  # type: ignore[import-untyped]

import shapely

from gis.gisio.limits import MAX_EXPANDED_BYTES, Checked
from gis.gisio.report import BadFile

ObjectArray = NDArray[np.object_]
#: Fields LIBKML adds to every KML layer; they describe the placemark, not the problem.
KML_BOOKKEEPING = frozenset({"id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                             "visibility", "drawOrder", "icon", "snippet"})  # fmt: skip


@dataclass
class SourceTable:
    """Rows as read from a file (源数据): columns of values, geometries in the file's CRS."""

    columns: list[str]
    values: dict[str, ObjectArray]
    geometry: ObjectArray | None
    rows: NDArray[np.int64]
    crs: str | None = None
    layers: list[str] = field(default_factory=list)
    encoding: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def _corrupt(name: str, detail: str) -> BadFile:
    return BadFile(
        "corrupt",
        f"无法读取“{name}”：文件已损坏、不完整或不是所声明的格式（{detail[:160]}）。",
        f"Cannot read '{name}': the file is corrupt, truncated or not the format it claims ({detail[:160]}).",
    )


def extract(checked: Checked, into: Path) -> Path:
    """Expand an archive into ``into``, never writing more than each member declares."""
    total = 0
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(checked.path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            target = into / Path(info.filename.replace("\\", "/")).name
            with archive.open(info) as src, target.open("wb") as dst:
                written = _copy_bounded(src, dst, info.file_size)
            total += written
            if total > MAX_EXPANDED_BYTES:
                raise BadFile("archive_bomb", "压缩包解压后过大，已拒绝。", "The archive expands too far; refused.")
    return into


def _copy_bounded(src: Any, dst: Any, declared: int) -> int:
    written = 0
    while chunk := src.read(1 << 20):
        written += len(chunk)
        if written > declared:
            raise BadFile(
                "archive_bomb",
                "压缩包中的文件比其声明的大小更大，已拒绝。",
                "An archive member is larger than it declares; refused.",
            )
        dst.write(chunk)
    return written


def _dbf_encoding(shp: Path) -> str:
    """The encoding of a Shapefile's attributes: its .cpg, else UTF-8 if the bytes decode, else GBK."""
    dbf = next((p for p in shp.parent.iterdir() if p.stem == shp.stem and p.suffix.lower() == ".dbf"), None)
    cpg = next((p for p in shp.parent.iterdir() if p.stem == shp.stem and p.suffix.lower() == ".cpg"), None)
    data = dbf.read_bytes() if dbf else b""
    header = int.from_bytes(data[8:10], "little") if len(data) > 10 else 0
    body = data[header:]
    declared = cpg.read_text(encoding="ascii", errors="replace").strip().upper() if cpg else None
    if declared:
        name = {"65001": "UTF-8", "UTF8": "UTF-8", "936": "GBK", "CP936": "GBK", "GB2312": "GBK"}.get(
            declared, declared
        )
        try:
            body.decode(name)
        except (UnicodeDecodeError, LookupError):
            raise BadFile(
                "encoding",
                f"编码错误：.cpg 声明为 {declared}，但属性表（.dbf）不是该编码（可能是 GBK 或 UTF-8）；"
                "请改正或删除 .cpg 后重新打包。",
                f"Wrong encoding: the .cpg says {declared} but the "
                ".dbf is not in it (GBK or UTF-8?); fix or remove the .cpg and zip again.",
                declared=declared,
            ) from None
        return name
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GBK"


def _layer_table(
    path: Path, layer: str | None, encoding: str | None, label: str, drop: frozenset[str] = frozenset()
) -> dict[str, Any]:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, _fids, geometry, values = read(
                path, layer=layer, encoding=encoding, force_2d=True, datetime_as_string=True
            )
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.FieldError,
        pyogrio.errors.CRSError,
        RuntimeError,
        UnicodeDecodeError,
    ) as exc:
        raise _corrupt(label, str(exc)) from None
    notes = [("gdal", str(w.message)) for w in caught]
    keep = [i for i, c in enumerate(meta["fields"]) if str(c) not in drop]
    columns = [str(meta["fields"][i]) for i in keep]
    values = [values[i] for i in keep]
    return {
        "columns": columns,
        "values": dict(zip(columns, values, strict=True)),
        "crs": meta.get("crs"),
        "geometry": geometry,
        "n": len(geometry) if geometry is not None else len(values[0]) if values else 0,
        "notes": notes,
    }


def _layers(path: Path, label: str) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, RuntimeError) as exc:
        raise _corrupt(label, str(exc)) from None
    named = [str(name) for name, gtype in found if gtype is not None]
    if named or not len(found):
        return named
    return [str(found[0][0])]


def _combine(parts: list[dict[str, Any]], names: list[str], encoding: str | None) -> SourceTable:
    columns = list(dict.fromkeys(c for p in parts for c in p["columns"]))
    values = {
        c: np.concatenate([np.asarray(p["values"].get(c, np.full(p["n"], None)), dtype=object) for p in parts])
        for c in columns
    }
    wkb = (
        np.concatenate(
            [
                np.asarray(p["geometry"] if p["geometry"] is not None else np.full(p["n"], None), dtype=object)
                for p in parts
            ]
        )
        if parts
        else np.empty(0, dtype=object)
    )
    geometry = shapely.from_wkb(wkb, on_invalid="ignore").astype(object) if len(wkb) else wkb
    crs_values = {p["crs"] for p in parts if p["crs"]}
    if len(crs_values) > 1:
        raise BadFile(
            "mixed_crs",
            "文件中各图层的坐标系不一致，请统一后再导入。",
            "The layers of the file use different coordinate systems; make them agree first.",
        )
    n = sum(p["n"] for p in parts)
    return SourceTable(
        columns,
        values,
        geometry,
        np.arange(1, n + 1, dtype=np.int64),
        next(iter(crs_values), None),
        names,
        encoding,
        [note for p in parts for note in p["notes"]],
    )


def read_vector(checked: Checked, workdir: Path, label: str) -> SourceTable:
    """Read every layer of a GeoJSON, GeoPackage, KML or (expanded) Shapefile zip / KMZ."""
    path, encoding = checked.path, None
    if checked.format in ("shp", "kmz"):
        folder = extract(checked, workdir / "expanded")
        if checked.format == "kmz":
            path = next(folder.glob("*.kml"), folder)
        else:
            shapefiles = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".shp")
            encoding = _dbf_encoding(shapefiles[0])
            parts = [_layer_table(shp, None, encoding, label) for shp in shapefiles]
            return _combine(parts, [p.stem for p in shapefiles], encoding)
    if checked.format == "geojson":
        _check_utf8(path, label)
    names = _layers(path, label)
    if not names:
        raise BadFile("no_layer", f"“{label}”里没有可读的图层。", f"'{label}' holds no readable layer.")
    drop = KML_BOOKKEEPING if checked.format in ("kml", "kmz") else frozenset()
    parts = [_layer_table(path, name, None, label, drop) for name in names]
    return _combine(parts, names, encoding)


def _check_utf8(path: Path, label: str) -> None:
    """GeoJSON is UTF-8 (RFC 8259): anything else is refused with a hint."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            raise BadFile(
                "encoding",
                f"“{label}”不是 UTF-8 编码（GeoJSON 须为 UTF-8）；若为 GBK，请另存为 UTF-8。",
                f"'{label}' is not UTF-8 (GeoJSON must be); if it is GBK, save it as UTF-8.",
            ) from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _corrupt(label, "the file ends in the middle of a character: truncated?") from None


def cleanup(workdir: Path) -> None:
    """Remove what reading expanded."""
    shutil.rmtree(workdir, ignore_errors=True)


logging.getLogger("pyogrio").setLevel(logging.ERROR)
