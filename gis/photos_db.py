"""Photo records (照片登记): what the database knows of stored photos, and close-out evidence.

The image bytes live in the photo store (a folder, swappable for object storage); the database keeps
one row per photo (its sha256 is its id) with the EXIF position and time read on upload.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gis.errors import InvalidField

PHOTO_ID = re.compile(r"^[0-9a-f]{64}$")
FAR_M = 200.0
OLD_H = 24.0

REGISTER = text("""
INSERT INTO photo (id, content_type, width, height, size_bytes, exif_position, exif_time, uploaded_by)
VALUES (:id, :content_type, :width, :height, :size_bytes,
        CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
        :exif_time, :uploaded_by)
ON CONFLICT (id) DO NOTHING
""")

KNOWN = text("SELECT id FROM photo WHERE id = ANY (:ids)").bindparams(bindparam("ids", type_=ARRAY(Text)))

EVIDENCE = text("""
SELECT p.id,
       CASE WHEN p.exif_position IS NULL THEN NULL
            ELSE round(ST_Distance(p.exif_position::geography,
                                   ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography)::numeric, 1) END,
       CASE WHEN p.exif_time IS NULL THEN NULL
            ELSE round((extract(epoch FROM now() - p.exif_time) / 3600)::numeric, 1) END
FROM photo p WHERE p.id = ANY (:ids) ORDER BY p.id
""").bindparams(bindparam("ids", type_=ARRAY(Text)))


def register_photo(conn: Connection, info: Any, uploaded_by: int | None) -> None:
    """Record a stored photo (idempotent: the same bytes are the same photo)."""
    lon, lat = info.exif_position if info.exif_position else (None, None)
    conn.execute(
        REGISTER,
        {
            "id": info.sha256,
            "content_type": info.content_type,
            "width": info.width,
            "height": info.height,
            "size_bytes": info.size_bytes,
            "lon": lon,
            "lat": lat,
            "exif_time": info.exif_time,
            "uploaded_by": uploaded_by,
        },
    )


def check_photos(conn: Connection, ids: Sequence[str], field: str = "photo_ids") -> None:
    """Every photo id must be well formed and uploaded first (``POST /photos``)."""
    bad = [i for i in ids if not PHOTO_ID.match(i)]
    if not bad and ids:
        known = set(conn.execute(KNOWN, {"ids": list(ids)}).scalars())
        bad = [i for i in ids if i not in known]
    refuse_unknown(bad, field)


def refuse_unknown(bad: Sequence[str], field: str = "photo_ids") -> None:
    """Refuse photo ids that are malformed or were never uploaded (none: nothing to refuse)."""
    if bad:
        raise InvalidField(
            field,
            f"照片 {bad[0]} 不存在：请先用 POST /photos 上传照片，再引用返回的 id。",
            f"Photo {bad[0]} does not exist: upload it with POST /photos first and use the id it returns.",
            unknown=list(bad),
        )


def evidence(conn: Connection, ids: Sequence[str], position_wkb: str) -> dict[str, Any]:
    """What the photos' EXIF says about a close-out: distance from the position, age, flags."""
    return evidence_of(conn.execute(EVIDENCE, {"ids": list(ids), "wkb": position_wkb}).all())


def evidence_of(rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The evidence from ``(id, EXIF distance m, EXIF age h)`` rows ordered by id (as ``EVIDENCE`` gives)."""
    photos = [{"id": r[0], "exif_distance_m": _num(r[1]), "exif_age_h": _num(r[2])} for r in rows]
    flags = []
    if any(p["exif_distance_m"] is not None and p["exif_distance_m"] > FAR_M for p in photos):
        flags.append("photo_far_from_position")
    if any(p["exif_age_h"] is not None and p["exif_age_h"] > OLD_H for p in photos):
        flags.append("photo_taken_long_before")
    if all(p["exif_distance_m"] is None for p in photos):
        flags.append("photo_without_gps")
    return {"photos": photos, "flags": flags}


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
