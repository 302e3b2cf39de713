"""Photo store (照片存储): validation, EXIF, storage layout, thumbnails and watermarked public copies.

Pure and fast: images are made in memory with Pillow (no binary fixtures), files go under tmp_path,
no database (run with ``--noconftest``).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from gis.errors import NotFound, PhotoRejected
from gis.photo_marks import draw_watermark, encode_jpeg, find_cjk_font, render_copy
from gis.photos import PhotoStore

GPS = ExifTags.GPS
BASE = ExifTags.Base
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOISE = bytes((i * 151 + 17) % 256 for i in range(400))  # deterministic junk
LINES = ["2026-11-20 14:32", "640221-2026-000123", "渠口乡 金桥村"]


# ---------------------------------------------------------------- helpers: images with EXIF, no fixtures


def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Unsigned decimal degrees → EXIF (degrees, minutes, seconds) rationals."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600 * 1000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 1000)


def make_exif(
    *,
    lon: float | None = None,
    lat: float | None = None,
    gps: dict[int, Any] | None = None,
    taken: str | None = None,
    offset: str | None = None,
    plain_datetime: str | None = None,
    orientation: int | None = None,
) -> Image.Exif:
    """An EXIF block: GPS IFD (0x8825) from lon/lat or raw ``gps`` tags, DateTimeOriginal and friends."""
    exif = Image.Exif()
    if orientation is not None:
        exif[BASE.Orientation] = orientation
    if plain_datetime is not None:
        exif[BASE.DateTime] = plain_datetime
    tags = dict(gps or {})
    if lon is not None and lat is not None:
        tags |= {GPS.GPSLatitudeRef: "N" if lat >= 0 else "S", GPS.GPSLatitude: dms(lat)}
        tags |= {GPS.GPSLongitudeRef: "E" if lon >= 0 else "W", GPS.GPSLongitude: dms(lon)}
    if tags:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(tags)
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[BASE.DateTimeOriginal] = taken
    if offset is not None:
        sub[BASE.OffsetTimeOriginal] = offset
    return exif


def picture(size: tuple[int, int] = (96, 64), mode: str = "RGB") -> Image.Image:
    """A gradient with some structure, so resizing and JPEG artefacts are realistic."""
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 255, w), np.linspace(0, 255, h))
    rgb = np.stack([x, y, (x + y) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb).convert(mode)


def encode(im: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def make_jpeg(size: tuple[int, int] = (96, 64), exif: Image.Exif | bytes | None = None, **params: Any) -> bytes:
    """A JPEG, optionally with an EXIF block (an ``Image.Exif`` or raw APP1 payload bytes)."""
    if exif is not None:
        params["exif"] = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    return encode(picture(size), "JPEG", **params)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos", thumb_px=64, public_px=200)


def rejected(store: PhotoStore, data: bytes) -> PhotoRejected:
    """Save must refuse ``data`` and leave nothing under the store's root."""
    with pytest.raises(PhotoRejected) as caught:
        store.save(data)
    assert files_under(store.root) == []
    err = caught.value
    assert err.title == "Photo rejected" and err.extra["reason"] == err.reason
    assert any("\u4e00" <= c <= "\u9fff" for c in err.detail_zh) and err.detail_en
    return err


# ---------------------------------------------------------------- types from content


@pytest.mark.parametrize(
    ("fmt", "content_type", "ext"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_accepted_types_detected_from_bytes_alone(store: PhotoStore, fmt: str, content_type: str, ext: str) -> None:
    data = encode(picture((96, 64)), fmt)
    info = store.inspect(data)
    assert (info.content_type, info.width, info.height, info.size_bytes) == (content_type, 96, 64, len(data))
    assert files_under(store.root) == []  # inspect stores nothing
    assert store.save(data) == info
    assert store.original(info.sha256).name == f"{info.sha256}.{ext}"


def test_png_renamed_jpg_is_still_png(store: PhotoStore, tmp_path: Path) -> None:
    renamed = tmp_path / "IMG_0001.jpg"
    renamed.write_bytes(encode(picture(), "PNG"))
    info = store.save(renamed.read_bytes())
    assert info.content_type == "image/png"
    assert store.original(info.sha256).suffix == ".png"


def test_phone_mpo_jpeg_is_a_jpeg(store: PhotoStore) -> None:
    buf = io.BytesIO()
    picture().save(buf, "MPO", save_all=True, append_images=[picture((48, 32))])
    assert store.save(buf.getvalue()).content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (encode(picture(), "GIF"), "a GIF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "a PDF document"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG, HTML or XML file"),
        ("这不是照片，只是改名为 .jpg 的文本".encode(), "unknown"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "a HEIC/AVIF photo"),
        (encode(picture(), "BMP"), "a BMP image"),
    ],
)
def test_unsupported_types_refused(store: PhotoStore, data: bytes, detected: str) -> None:
    err = rejected(store, data)
    assert err.reason == "unsupported_type" and err.extra["detected"] == detected
    assert "JPEG" in err.detail_zh and "image/webp" in err.extra["accepted"]


def test_animated_webp_refused(store: PhotoStore) -> None:
    data = encode(picture(), "WEBP", save_all=True, append_images=[picture().rotate(90)], duration=100)
    assert rejected(store, data).reason == "unsupported_type"


def test_empty_refused(store: PhotoStore) -> None:
    assert rejected(store, b"").reason == "empty"


def _png_with_bad_crc() -> bytes:
    data = bytearray(encode(picture(), "PNG"))
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    crc_at = idat + 4 + length
    data[crc_at : crc_at + 4] = struct.pack(">I", zlib.crc32(b"wrong") & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        make_jpeg((200, 150))[:600],  # truncated upload
        make_jpeg((200, 150))[:-2],  # only the end-of-image marker missing
        encode(picture(), "PNG")[:-30],
        _png_with_bad_crc(),  # caught by verify()
        encode(picture(), "WEBP")[:-40],
        b"\xff\xd8\xff\xe0" + NOISE,  # JPEG magic, garbage after
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    ],
    ids=["jpeg-half", "jpeg-no-eoi", "png-cut", "png-crc", "webp-cut", "jpeg-garbage", "png-garbage"],
)
def test_corrupt_refused(store: PhotoStore, data: bytes) -> None:
    assert rejected(store, data).reason == "corrupt"


# ---------------------------------------------------------------- limits


def test_too_large_names_size_limit_and_what_to_do(tmp_path: Path) -> None:
    small = PhotoStore(tmp_path / "p", max_bytes=1000)
    data = make_jpeg((200, 150))
    err = rejected(small, data)
    assert err.reason == "too_large"
    assert (err.extra["size_bytes"], err.extra["limit_bytes"]) == (len(data), 1000)
    assert "1600" in err.detail_zh and "1600" in err.detail_en


def test_too_many_pixels(tmp_path: Path) -> None:
    small = PhotoStore(tmp_path / "p", max_pixels=100 * 100)
    small.inspect(make_jpeg((100, 100)))  # exactly at the limit is fine
    err = rejected(small, make_jpeg((101, 100)))
    assert err.reason == "too_many_pixels"
    assert (err.extra["width"], err.extra["height"], err.extra["limit_pixels"]) == (101, 100, 10_000)


@pytest.mark.parametrize("pixels", [1500, 2500], ids=["pillow-warning", "pillow-error"])
def test_pillow_decompression_bomb_becomes_too_many_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pixels: int
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # warning above 1000, error above 2000
    data = encode(picture((pixels // 10, 10)), "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the store must not rely on the process's warning filters
        assert rejected(PhotoStore(tmp_path / "p"), data).reason == "too_many_pixels"


# ---------------------------------------------------------------- storage


def test_save_is_idempotent_and_content_addressed(store: PhotoStore) -> None:
    data = make_jpeg()
    first, second = store.save(data), store.save(data)
    assert first == second and store.has(first.sha256)
    sha = first.sha256
    assert files_under(store.root) == [
        store.root / "originals" / sha[:2] / sha[2:4] / f"{sha}.jpg",
        store.root / "thumbs" / sha[:2] / sha[2:4] / f"{sha}-64.jpg",
    ]
    assert store.original(sha).read_bytes() == data


def test_thumbnail_small_upright_and_without_metadata(store: PhotoStore) -> None:
    data = make_jpeg((300, 200), make_exif(lon=106.2, lat=38.5, orientation=6), icc_profile=b"\0" * 128)
    info = store.save(data)
    assert (info.width, info.height) == (200, 300)  # as displayed
    thumb = decoded(store.thumbnail(info.sha256).read_bytes())
    assert thumb.size == (43, 64) and not thumb.getexif() and "icc_profile" not in thumb.info
    store.thumbnail(info.sha256).unlink()
    assert decoded(store.thumbnail(info.sha256).read_bytes()).size == (43, 64)  # made again on demand


def test_transparent_and_16_bit_pngs_flatten(store: PhotoStore) -> None:
    clear = Image.new("RGBA", (80, 80), (255, 0, 0, 0))
    thumb = decoded(store.thumbnail(store.save(encode(clear, "PNG")).sha256).read_bytes())
    assert thumb.mode == "RGB" and np.asarray(thumb).min() > 240  # transparent → white
    deep = Image.fromarray(np.full((40, 40), 30000, dtype=np.uint16))
    thumb = decoded(store.thumbnail(store.save(encode(deep, "PNG")).sha256).read_bytes())
    assert 100 < np.asarray(thumb).mean() < 140  # 30000/65535 of full scale, not clipped to white


def test_cmyk_jpeg_accepted(store: PhotoStore) -> None:
    info = store.save(encode(picture(mode="CMYK"), "JPEG"))
    assert decoded(store.public_copy(info.sha256, lines=LINES)).mode == "RGB"


# ---------------------------------------------------------------- EXIF


@pytest.mark.parametrize(
    ("lon", "lat"), [(106.2458, 38.5021), (-43.1729, -22.9068), (151.2093, -33.8688), (-73.9857, 40.7484)]
)
def test_exif_gps_signs(store: PhotoStore, lon: float, lat: float) -> None:
    position = store.inspect(make_jpeg(exif=make_exif(lon=lon, lat=lat))).exif_position
    assert position == pytest.approx((lon, lat), abs=1e-6)


def test_gps_zero_zero_means_no_fix(store: PhotoStore) -> None:
    assert store.inspect(make_jpeg(exif=make_exif(lon=0.0, lat=0.0))).exif_position is None


NAN = IFDRational(1, 0)
GOOD = {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: dms(38.5), GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: dms(106.2)}


@pytest.mark.parametrize(
    "gps",
    [
        GOOD | {GPS.GPSLatitude: (NAN, IFDRational(0, 1), IFDRational(0, 1))},  # x/0
        GOOD | {GPS.GPSLatitude: (IFDRational(95, 1), IFDRational(0, 1), IFDRational(0, 1))},  # > 90°
        GOOD | {GPS.GPSLongitude: (IFDRational(106, 1), IFDRational(75, 1), IFDRational(0, 1))},  # 75′
        GOOD | {GPS.GPSLatitudeRef: "Q"},
        {k: v for k, v in GOOD.items() if k != GPS.GPSLongitudeRef},
        {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: dms(38.5)},  # no longitude
        GOOD | {GPS.GPSStatus: "V"},  # receiver said the fix is void
    ],
    ids=["divide-by-zero", "lat-95", "minutes-75", "bad-ref", "no-ref", "no-lon", "void"],
)
def test_garbage_gps_is_no_position_not_an_error(store: PhotoStore, gps: dict[int, Any]) -> None:
    info = store.save(make_jpeg(exif=make_exif(gps=gps, taken="2026:11:20 14:32:05")))
    assert info.exif_position is None and info.exif_time is not None


@pytest.mark.parametrize(
    "payload",
    [
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x02" + NOISE[:40],  # IFD entries run off the end
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",  # IFD offset far outside the block
        b"Exif\x00\x00" + NOISE[:64],
    ],
    ids=["entries-cut", "offset-outside", "noise"],
)
def test_broken_exif_block_still_uploads(store: PhotoStore, payload: bytes) -> None:
    info = store.save(make_jpeg(exif=payload))
    assert (info.exif_position, info.exif_time) == (None, None)
    assert decoded(store.public_copy(info.sha256, lines=LINES)).size == (96, 64)


def test_exif_time_with_offset(store: PhotoStore) -> None:
    taken = store.inspect(make_jpeg(exif=make_exif(taken="2026:11:20 14:32:05", offset="-03:30"))).exif_time
    assert taken == datetime(2026, 11, 20, 18, 2, 5, tzinfo=UTC)
    assert taken is not None and taken.utcoffset() == timedelta(hours=-3, minutes=-30)


def test_exif_time_without_offset_is_shanghai(store: PhotoStore) -> None:
    taken = store.inspect(make_jpeg(exif=make_exif(taken="2026:11:20 14:32:05"))).exif_time
    assert taken == datetime(2026, 11, 20, 14, 32, 5, tzinfo=SHANGHAI)
    assert taken is not None and taken.utcoffset() == timedelta(hours=8)


def test_exif_time_falls_back_to_datetime(store: PhotoStore) -> None:
    exif = make_exif(taken="0000:00:00 00:00:00", plain_datetime="2026:01:02 03:04:05")
    assert store.inspect(make_jpeg(exif=exif)).exif_time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)
    assert store.inspect(make_jpeg()).exif_time is None


# ---------------------------------------------------------------- public copies


def sensitive_jpeg(size: tuple[int, int] = (600, 400), orientation: int | None = None) -> bytes:
    """Everything a served copy must not carry: EXIF GPS, XMP with GPS, an ICC profile, a comment."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="38,30.1N"/></x:xmpmeta>'
    exif = make_exif(lon=106.2, lat=38.5, taken="2026:11:20 14:32:05", orientation=orientation)
    return make_jpeg(size, exif, xmp=xmp, comment=b"owner: Zhang San 13800000000", icc_profile=b"\0" * 128)


def test_public_copy_carries_no_metadata(store: PhotoStore) -> None:
    sha = store.save(sensitive_jpeg()).sha256
    data = store.public_copy(sha, lines=LINES)
    im = decoded(data)
    assert im.format == "JPEG" and im.size == (200, 133)
    assert not im.getexif() and not im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(im.info)
    for marker in (b"GPS", b"Exif", b"xmpmeta", b"ns.adobe.com", b"ICC_PROFILE", b"Zhang", b"138000"):
        assert marker not in data


def test_public_copy_honours_orientation(store: PhotoStore) -> None:
    stored = picture((600, 400))
    stored.paste((255, 0, 0), (0, 0, 300, 400))  # left half red, right half blue as stored
    stored.paste((0, 0, 255), (300, 0, 600, 400))
    exif = make_exif(orientation=6)  # "rotate 90° clockwise to display": stored left becomes the top
    sha = store.save(encode(stored, "JPEG", exif=exif.tobytes())).sha256
    upright = decoded(store.public_copy(sha, lines=[]))
    assert upright.size == (133, 200)
    top, bottom = upright.getpixel((66, 10)), upright.getpixel((66, 190))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


def band_diff(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """Mean absolute difference in the top 60 % and in the bottom 15 % of two same-size images."""
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
    h = diff.shape[0]
    return float(diff[: int(h * 0.6)].mean()), float(diff[int(h * 0.85) :].mean())


def test_watermark_changes_the_bottom_not_the_top(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "p")  # default public_px 1600
    data = make_jpeg((2400, 1800))
    sha = store.save(data).sha256
    marked = decoded(store.public_copy(sha, lines=LINES))
    plain = decoded(encode_jpeg(render_copy(decoded(data), 1600), 85))
    assert marked.size == plain.size == (1600, 1200)
    top, bottom = band_diff(marked, plain)
    assert top < 0.5 and bottom > 15


def test_chinese_text_renders() -> None:
    grey = Image.new("RGB", (800, 600), (128, 128, 128))
    font = find_cjk_font()
    first = np.asarray(draw_watermark(grey, ["渠口乡 金桥村"], font))
    second = np.asarray(draw_watermark(grey, ["利通区 平罗县"], font))
    changed = (first != 128).any(axis=(1, 2))
    top = int(changed.argmax())
    assert changed[top:].all() and 0.05 < 1 - top / 600 < 0.2  # one band along the bottom, nothing above
    band = first[top:]
    assert (np.abs(band.astype(int) - 128).max(axis=-1) > 20).mean() > 0.9  # darkened
    assert (band.min(axis=-1) > 220).sum() > 250  # many white text pixels
    assert (np.abs(band.astype(int) - second[top:]) > 60).sum() > 1000  # real glyphs, not tofu boxes


def test_font_scales_with_the_image() -> None:
    font = find_cjk_font()

    def text_rows(size: tuple[int, int]) -> int:
        marked = np.asarray(draw_watermark(Image.new("RGB", size, (128, 128, 128)), LINES, font))
        return int((marked.min(axis=(1, 2)) > 220).sum() + (marked != 128).any(axis=(1, 2)).sum())

    assert text_rows((1600, 1200)) > 3 * text_rows((400, 300)) > 0


def test_public_copy_is_cached(store: PhotoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = store.save(sensitive_jpeg()).sha256
    first = store.public_copy(sha, lines=LINES)
    cached = list((store.root / "public").rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].name.startswith(sha)

    def no_decoding(*_args: object, **_kwargs: object) -> Image.Image:
        raise AssertionError("a cached public copy must not decode the original again")

    with monkeypatch.context() as patched:
        patched.setattr(Image, "open", no_decoding)
        assert store.public_copy(sha, lines=LINES) == first
    other = store.public_copy(sha, lines=[*LINES[:2], "渠口乡 新华村"])
    assert other != first and len(list((store.root / "public").rglob("*.jpg"))) == 2


# ---------------------------------------------------------------- ids


BAD_IDS: Sequence[str] = ["../etc/passwd", "abc", "", "A" * 64, "0" * 63 + "/", "../" * 21 + "a", "0" * 64 + "\n"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_never_touch_the_filesystem(store: PhotoStore, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    def no_stat(*_args: object, **_kwargs: object) -> os.stat_result:
        raise AssertionError("the file system was consulted for a malformed id")

    with monkeypatch.context() as patched:
        patched.setattr(Path, "stat", no_stat)
        assert store.has(bad) is False
        for call in (store.original, store.thumbnail, lambda s: store.public_copy(s, lines=LINES)):
            with pytest.raises(NotFound) as caught:
                call(bad)
            assert "sha256" in caught.value.detail_en and "十六进制" in caught.value.detail_zh
    assert files_under(store.root) == []


def test_unknown_id_not_found(store: PhotoStore) -> None:
    unknown = "ab" * 32
    assert not store.has(unknown)
    for call in (store.original, store.thumbnail, lambda s: store.public_copy(s, lines=LINES)):
        with pytest.raises(NotFound):
            call(unknown)
    assert not (store.root / "public").exists()


def test_refused_and_missing_leave_root_clean(store: PhotoStore) -> None:
    with pytest.raises(PhotoRejected):
        store.save(b"GIF89a" + b"\x00" * 20)
    assert not store.root.exists()
