"""Photo store (照片存储): validate uploads, keep originals content-addressed, make derived copies.

Pure Python with Pillow: no database, no HTTP. The type of a photo is read from its *content* (magic
bytes, then Pillow restricted to that one format), never from a file name or a Content-Type header.
Layout under ``root``::

    originals/ab/cd/<sha256>.<jpg|png|webp>     the bytes as uploaded (they keep their EXIF GPS)
    thumbs/ab/cd/<sha256>-<thumb_px>.jpg        缩略图, no metadata
    public/ab/cd/<sha256>-<mark key>.jpg        水印公开图, no metadata (see gis.photo_marks)

Every file is written to a temporary file in its directory and moved into place with ``os.replace``,
so readers never see half a photo. A refused photo leaves nothing behind: validation ends before the
first write. Originals must never be served to anyone: they carry the reporter's position.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from gis.errors import NotFound, PhotoRejected
from gis.photo_marks import (
    PUBLIC_QUALITY,
    THUMB_QUALITY,
    draw_watermark,
    encode_jpeg,
    exif_position,
    exif_time,
    find_cjk_font,
    mark_key,
    orientation_of,
    pillow_guard,
    render_copy,
)

ACCEPTED = {"image/jpeg", "image/png", "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: Pillow format names each accepted type may open as (phones write MPO for JPEGs with a depth map).
_PILLOW_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/webp": ("WEBP",)}
_STORED_FORMATS = ("JPEG", "PNG", "WEBP")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NOT_IMAGES = {  # what an unsupported upload looks like, for a helpful message: magic → (中文, English)
    b"%PDF": ("PDF 文档", "a PDF document"),
    b"GIF8": ("GIF 动图", "a GIF"),
    b"BM": ("BMP 图片", "a BMP image"),
    b"II*\x00": ("TIFF 图片", "a TIFF image"),
    b"MM\x00*": ("TIFF 图片", "a TIFF image"),
    b"<": ("SVG/网页/XML 文件", "an SVG, HTML or XML file"),
    b"PK\x03\x04": ("压缩包或 Office 文档", "a ZIP archive or Office document"),
}


@dataclass(frozen=True)
class PhotoInfo:
    """What the store knows about a valid photo (照片信息). ``width``/``height`` are as displayed,
    i.e. after the EXIF Orientation; ``exif_position`` is (lon, lat) WGS84."""

    sha256: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    exif_position: tuple[float, float] | None
    exif_time: datetime | None


def _rejected(reason: str, zh: str, en: str, **extra: Any) -> PhotoRejected:
    return PhotoRejected(reason, zh, en, **extra)


def _unsupported(data: bytes, detail_zh: str = "", detail_en: str = "") -> PhotoRejected:
    """不支持的文件类型, naming what the upload looks like when we can tell."""
    head = data[:16].lstrip()
    zh, en = next((v for magic, v in _NOT_IMAGES.items() if head.startswith(magic)), ("未知类型", "unknown"))
    if data[4:8] == b"ftyp":
        zh, en = "HEIC/AVIF 照片", "a HEIC/AVIF photo"
    return _rejected(
        "unsupported_type",
        f"不支持的文件类型（检测为{detail_zh or zh}）：只接受 JPEG、PNG 或 WebP 照片。请用手机相机直接拍照上传；"
        "苹果手机可在“设置 > 相机 > 格式”中选择“兼容性最佳”。",
        f"Unsupported file type (this looks like {detail_en or en}): only JPEG, PNG and WebP photos are "
        "accepted. Upload a photo straight from the phone camera; on an iPhone choose Settings > Camera > "
        "Formats > Most Compatible.",
        detected=en,
        accepted=sorted(ACCEPTED),
    )


def _too_many_pixels(limit: int, width: int | None = None, height: int | None = None) -> PhotoRejected:
    dims = f"{width}×{height}" if width and height else ""
    return _rejected(
        "too_many_pixels",
        f"照片像素过多{'（' + dims + '）' if dims else ''}，上限 {limit / 1e6:.0f} 百万像素。"
        "请在手机上把照片缩小到最长边不超过 1600 像素后重新上传。",
        f"The photo has too many pixels{' (' + dims + ')' if dims else ''}; the limit is {limit / 1e6:.0f} "
        "megapixels. Resize it on the phone to at most 1600 px on the longest side and upload it again.",
        width=width,
        height=height,
        limit_pixels=limit,
    )


def _corrupt() -> PhotoRejected:
    return _rejected(
        "corrupt",
        "照片文件已损坏或不完整（可能上传中断），无法读取。请重新上传；如仍失败，请重新拍照。",
        "The photo is damaged or incomplete (the upload may have been cut off) and cannot be read. "
        "Upload it again; if that fails, take the photo again.",
    )


def check_size(size: int, max_bytes: int) -> None:
    """Refuse an empty or too large upload by its size alone (before reading it all)."""
    if size == 0:
        raise _rejected(
            "empty",
            "上传的照片是空文件（0 字节）。请重新拍照或从相册重新选择后上传。",
            "The uploaded photo is empty (0 bytes). Take it again or pick it again from the gallery.",
        )
    if size > max_bytes:
        raise _rejected(
            "too_large",
            f"照片太大：{size / 1048576:.1f} MB，上限 {max_bytes / 1048576:.1f} MB。"
            "请在手机上把照片缩小到最长边不超过 1600 像素后重新上传。",
            f"The photo is too large: {size / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.1f} MB. "
            "Resize it on the phone to at most 1600 px on the longest side and upload it again.",
            size_bytes=size,
            limit_bytes=max_bytes,
        )


def sniff(data: bytes) -> str | None:
    """The content type from the magic bytes (文件头), or None when it is not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _open_checked(data: bytes, content_type: str, max_pixels: int) -> Image.Image:
    """Open, check the pixel count before decoding, ``verify()``, then reopen and fully ``load()``.
    Call inside :func:`pillow_guard`."""
    formats = _PILLOW_FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[formats[0]]) as probe:
            if probe.format not in formats:
                raise _unsupported(data)
            if probe.width * probe.height > max_pixels:
                raise _too_many_pixels(max_pixels, probe.width, probe.height)
            if content_type != "image/jpeg" and getattr(probe, "is_animated", False):
                raise _unsupported(data, "动图", "an animation")
            probe.verify()
        im = Image.open(io.BytesIO(data), formats=[formats[0]])
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except PhotoRejected:
        raise
    except Exception:  # any failure of a decoder on untrusted bytes means a damaged file, not a 500
        raise _corrupt() from None
    return im


def _exif_of(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:  # an EXIF block Pillow cannot parse at all
        return Image.Exif()


class PhotoStore:
    """Content-addressed photo store (照片库) on the local file system under ``root``."""

    def __init__(self, root: Path, *, max_bytes: int = 10 * 1024 * 1024, max_pixels: int = 40_000_000,
                 thumb_px: int = 320, public_px: int = 1600, font_path: Path | None = None) -> None:  # fmt: skip
        if min(max_bytes, max_pixels, thumb_px, public_px) < 1:
            raise ValueError("photo store limits and sizes must be positive")
        self.root = Path(root)
        self.max_bytes, self.max_pixels = max_bytes, max_pixels
        self.thumb_px, self.public_px = thumb_px, public_px
        self.font_path = font_path

    def inspect(self, data: bytes) -> PhotoInfo:
        """Validate (校验) without storing anything; raise :class:`PhotoRejected` when refused."""
        return self._decode(data)[0]

    def save(self, data: bytes) -> PhotoInfo:
        """Validate, then store the original and its thumbnail; saving the same bytes again is a no-op."""
        info, im = self._decode(data)
        thumb_path, thumb = self._thumb_path(info.sha256), None
        if not thumb_path.is_file():  # rendered before any write: a failure here leaves nothing behind
            with pillow_guard():
                thumb = encode_jpeg(render_copy(im, self.thumb_px), THUMB_QUALITY)
        original = self._path("originals", info.sha256, EXTENSIONS[info.content_type])
        if not (original.is_file() and original.stat().st_size == info.size_bytes):
            _write_atomic(original, data, mode=0o640, durable=True)
        if thumb is not None:
            _write_atomic(thumb_path, thumb, mode=0o644)
        return info

    def has(self, sha256: str) -> bool:
        """Whether an original with this id is stored (False for a malformed id)."""
        return _SHA256.fullmatch(sha256) is not None and self._find_original(sha256) is not None

    def original(self, sha256: str) -> Path:
        """Path of the stored original (原图); :class:`NotFound` for an unknown or malformed id."""
        _check_id(sha256)
        path = self._find_original(sha256)
        if path is None:
            raise NotFound(f"照片 {sha256} 不存在。", f"Photo {sha256} does not exist.", photo_id=sha256)
        return path

    def thumbnail(self, sha256: str) -> Path:
        """Path of the thumbnail (缩略图), made again from the original if it is missing."""
        _check_id(sha256)
        path = self._thumb_path(sha256)
        if not path.is_file():
            with pillow_guard(), Image.open(self.original(sha256), formats=_STORED_FORMATS) as im:
                _write_atomic(path, encode_jpeg(render_copy(im, self.thumb_px), THUMB_QUALITY), mode=0o644)
        return path

    def public_copy(self, sha256: str, *, lines: Sequence[str]) -> bytes:
        """JPEG for serving (公开图): ≤ public_px, upright, no metadata, watermarked with ``lines``.
        Cached on disk by id + watermark, so a repeat costs one file read."""
        _check_id(sha256)
        path = self._path("public", sha256, "jpg", f"-{mark_key(lines, self.public_px)}")
        if path.is_file():
            return path.read_bytes()
        source = self.original(sha256)
        font = self.font_path or find_cjk_font()
        with pillow_guard(), Image.open(source, formats=_STORED_FORMATS) as im:
            marked = draw_watermark(render_copy(im, self.public_px), lines, font)
            data = encode_jpeg(marked, PUBLIC_QUALITY)
        _write_atomic(path, data, mode=0o644)
        return data

    def _decode(self, data: bytes) -> tuple[PhotoInfo, Image.Image]:
        check_size(len(data), self.max_bytes)
        content_type = sniff(data)
        if content_type is None:
            raise _unsupported(data)
        with pillow_guard():
            im = _open_checked(data, content_type, self.max_pixels)
            exif = _exif_of(im)
            position, taken = exif_position(exif), exif_time(exif)
            turned = orientation_of(im) in (5, 6, 7, 8)
        width, height = (im.height, im.width) if turned else im.size
        info = PhotoInfo(hashlib.sha256(data).hexdigest(), content_type, width, height, len(data), position, taken)
        return info, im

    def _path(self, kind: str, sha256: str, ext: str, suffix: str = "") -> Path:
        return self.root / kind / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}.{ext}"

    def _thumb_path(self, sha256: str) -> Path:
        return self._path("thumbs", sha256, "jpg", f"-{self.thumb_px}")

    def _find_original(self, sha256: str) -> Path | None:
        for ext in EXTENSIONS.values():
            path = self._path("originals", sha256, ext)
            if path.is_file():
                return path
        return None


def _check_id(sha256: str) -> None:
    """Refuse anything but 64 lowercase hex digits before a path is built from it."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        shown = repr(sha256)[:80]
        raise NotFound(
            f"照片编号 {shown} 无效：应为 64 位小写十六进制（sha256）。",
            f"Invalid photo id {shown}: expected 64 lowercase hex digits (a sha256).",
            photo_id=shown,
        )


def _write_atomic(path: Path, data: bytes, *, mode: int, durable: bool = False) -> None:
    """Write via a temporary file in the same directory and ``os.replace`` (原子写入)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
