"""What is marked on a photo (照片标记): EXIF read from it, and the derived copies made from it.

EXIF: the GPS position (GPS 坐标) and the time taken (拍摄时间), read defensively: a broken block
yields "unknown", never an error. Derived copies: thumbnails (缩略图) and watermarked public copies
(水印公开图).

Every derived copy is a *fresh* RGB image: resized, turned upright from the EXIF Orientation, flattened
onto white, colour-converted to sRGB, and saved without any metadata (no EXIF, GPS, XMP, ICC profile
or JPEG comment). The original upload, which keeps its GPS, is never served; these copies are.

Pillow reports broken metadata through ``warnings`` and decompression bombs through a warning too;
:func:`pillow_guard` is the one place that decides what those mean (see its docstring).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFont

#: Bump when the look of the watermark changes: it is part of the public-copy cache key.
MARK_VERSION = "1"
THUMB_QUALITY = 80
PUBLIC_QUALITY = 85
#: CJK fonts tried in order when no font is configured; the first is the one the project installs.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
ORIENTATION_TAG = 0x0112
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # same zone as gis.db.LOCAL_TIMEZONE; not imported to stay DB-free
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
_GPS = ExifTags.GPS
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_WIDE_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_LOCK = threading.RLock()


@contextmanager
def pillow_guard() -> Iterator[None]:
    """Run Pillow with a fixed warnings policy (告警策略), whatever the process-wide filters say.

    A :class:`PIL.Image.DecompressionBombWarning` is raised as an exception, so callers can refuse
    the photo; Pillow's ``UserWarning``s about broken EXIF/MPO/palette data are ignored, because a
    broken metadata block must not break an upload. ``warnings.catch_warnings`` swaps global state,
    so a lock keeps two threads from restoring each other's filters.
    """
    with _LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def orientation_of(im: Image.Image) -> int:
    """EXIF Orientation (方向) 1–8; 1 when absent or malformed."""
    try:
        value = im.getexif().get(ORIENTATION_TAG)
    except Exception:  # a broken EXIF block only loses the orientation
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def _text(value: object) -> str:
    """An EXIF ASCII value as str (NULs and spaces stripped); '' for anything else."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _degrees(value: object, ref: str, positive: str, negative: str) -> float | None:
    """EXIF (degrees, minutes, seconds) rationals → signed decimal degrees (S and W negative)."""
    if ref.upper() not in (positive, negative) or not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [float(v) for v in value]
    if not all(math.isfinite(p) and p >= 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        return None
    degrees = sum(p / 60.0**i for i, p in enumerate(parts))
    return -degrees if ref.upper() == negative else degrees


def exif_position(exif: Image.Exif) -> tuple[float, float] | None:
    """(lon, lat) from the GPS IFD (GPS 坐标), or None: absent, malformed, out of range, void or (0, 0)."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if _text(gps.get(_GPS.GPSStatus)).upper() == "V":  # "measurement void"
            return None
        lat = _degrees(gps.get(_GPS.GPSLatitude), _text(gps.get(_GPS.GPSLatitudeRef)), "N", "S")
        lon = _degrees(gps.get(_GPS.GPSLongitude), _text(gps.get(_GPS.GPSLongitudeRef)), "E", "W")
    except Exception:  # a broken EXIF block means "no position", never a failed upload
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return (round(lon, 7), round(lat, 7))


def _parse_time(stamp: str, offset: str) -> datetime | None:
    match = _EXIF_TIME.match(stamp)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and other impossible dates
        return None
    tz: timezone | ZoneInfo = LOCAL_TZ
    off = _EXIF_OFFSET.fullmatch(offset)
    if off is not None and int(off[2]) <= 14 and int(off[3]) < 60:
        sign = -1 if off[1] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(off[2]), minutes=int(off[3])))
    return local.replace(tzinfo=tz)


def exif_time(exif: Image.Exif) -> datetime | None:
    """拍摄时间: DateTimeOriginal (else DateTime) with OffsetTimeOriginal (else OffsetTime) as the zone,
    Asia/Shanghai when no offset is recorded."""
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        candidates = (
            (sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)),
            (exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime)),
        )
        for stamp, offset in candidates:
            parsed = _parse_time(_text(stamp), _text(offset))
            if parsed is not None:
                return parsed
    except Exception:  # broken EXIF: no time
        return None
    return None


def flatten(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Any accepted mode → 8-bit sRGB RGB (转为 sRGB): alpha onto white, 16-bit scaled, ICC applied."""
    if im.mode in _WIDE_MODES:
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    if icc and im.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unreadable profile: treat the pixels as sRGB
    return im.convert("RGB")


def render_copy(im: Image.Image, px: int) -> Image.Image:
    """Resized (longest side ≤ px), upright, sRGB copy with no metadata (缩放、摆正、去元数据)."""
    orientation = orientation_of(im)
    icc = im.info.get("icc_profile")
    width, height = im.size
    if max(width, height) > px:  # let a JPEG decode at 1/2, 1/4 or 1/8 scale when that suffices
        scale = 2 * px / max(width, height)
        im.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    rgb = flatten(im, icc if isinstance(icc, bytes) else None)
    rgb.thumbnail((px, px), Image.Resampling.LANCZOS)
    op = _TRANSPOSE.get(orientation)
    if op is not None:
        rgb = rgb.transpose(op)
    clean = Image.new("RGB", rgb.size)  # a fresh image: no ``info`` (EXIF, XMP, ICC, comment) to carry over
    clean.paste(rgb)
    return clean


def encode_jpeg(im: Image.Image, quality: int) -> bytes:
    """JPEG bytes with no metadata segments (only the JFIF header Pillow always writes)."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
    return buf.getvalue()


def find_cjk_font() -> Path:
    """The first installed CJK font (中文字体) from :data:`FONT_CANDIDATES`."""
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(p) for p in FONT_CANDIDATES)
    raise RuntimeError(f"no CJK font for photo watermarks; install fonts-wqy-microhei (tried: {tried})")


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def normalise_lines(lines: Sequence[str]) -> list[str]:
    """Watermark lines with control characters and runs of whitespace collapsed; empty lines dropped."""
    cleaned = (" ".join("".join(c if c.isprintable() else " " for c in str(s)).split()) for s in lines)
    return [line for line in cleaned if line]


def mark_key(lines: Sequence[str], px: int) -> str:
    """Cache key (缓存键) of a public copy: the watermark lines, the size and the watermark style."""
    payload = json.dumps([MARK_VERSION, px, PUBLIC_QUALITY, normalise_lines(lines)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _font_size(lines: list[str], width: int, height: int, font_path: Path) -> int:
    """Proportional to the image (≈3.5 % of the short side), shrunk so every line fits the width and
    the band stays under ~35 % of the height; never below 10 px."""
    by_image = min(width, height) * 0.035
    widest = max(_font(str(font_path), 100).getlength(line) for line in lines)
    by_width = (width * 0.94) * 100 / max(widest, 1.0)
    by_height = height * 0.35 / (1.45 * len(lines) + 0.6)
    return max(10, round(min(by_image, by_width, by_height)))


def draw_watermark(im: Image.Image, lines: Sequence[str], font_path: Path) -> Image.Image:
    """Draw the watermark (水印): white CJK text with a dark outline on a translucent dark band along
    the bottom edge, so it reads on bright and dark photos alike. ``im`` is RGB; returns a new image."""
    text = normalise_lines(lines)
    if not text:
        return im
    width, height = im.size
    size = _font_size(text, width, height, font_path)
    font = _font(str(font_path), size)
    ascent, descent = font.getmetrics()
    pad, gap = max(4, size // 2), max(2, size // 5)
    line_h = ascent + descent + gap
    band_top = height - (2 * pad + line_h * len(text) - gap)
    overlay = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, band_top, width, height), fill=(0, 0, 0, 140))
    stroke = max(1, size // 12)
    for i, line in enumerate(text):
        xy = (pad, band_top + pad + i * line_h)
        draw.text(xy, line, font=font, fill=(255, 255, 255, 255), stroke_width=stroke, stroke_fill=(0, 0, 0, 220))
    return Image.alpha_composite(im.convert("RGBA"), overlay).convert("RGB")
