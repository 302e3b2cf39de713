"""Open311 POST requests (报事上报): the form read into an ordinary report (``gis.report``).

The location is ``lat``/``long`` in WGS84 (an address alone cannot be located here); attributes
come as ``attribute[code]=value`` (``subtype`` is the 六堆 kind, ``edge`` the 六边 edge …);
``first_name``/``last_name``/``phone`` become the (never published) reporter; ``email`` is not
kept. ``media_url`` is stored with the report event and never fetched by the server (SSRF).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gis.categories import Category
from gis.errors import InvalidParameter
from gis.report import ReportIn

ATTRIBUTE: Final = re.compile(r"^attribute\[([a-z][a-z0-9_]{0,39})\](\[\])?$")
MEDIA_URL: Final = re.compile(r"^https?://[^\s<>\"]{1,2000}$")
KNOWN: Final = frozenset({"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                          "email", "device_id", "account_id", "first_name", "last_name", "phone", "description",
                          "media_url", "media"})  # fmt: skip


@dataclass(frozen=True)
class PostedRequest:
    """A POSTed service request, read and checked (报事内容)."""

    service_code: str
    lon: float
    lat: float
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    reporter_name: str | None = None
    reporter_phone: str | None = None
    media_url: str | None = None


def _missing(name: str, zh: str, en: str) -> InvalidParameter:
    return InvalidParameter(name, zh, en)


def _coordinate(form: dict[str, str], name: str, limit: float) -> float:
    raw = form.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise _missing(
            name, f"{name} 须为 WGS84 十进制度数，收到“{raw}”。", f"{name} must be WGS84 decimal degrees, got '{raw}'."
        ) from None
    if not math.isfinite(value) or abs(value) > limit:
        raise _missing(
            name,
            f"{name} 须在 ±{limit:g}° 之内（经纬度是否颠倒？）。",
            f"{name} must be within ±{limit:g}° (lat and long swapped?).",
        )
    return value


def read_form(items: Sequence[tuple[str, str]]) -> PostedRequest:
    """Check the form fields of a POST request (unknown fields are refused, not ignored)."""
    form: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for key, value in items:
        match = ATTRIBUTE.match(key)
        if match:
            attributes[match.group(1)] = value
        elif key in KNOWN:
            form[key] = value
        else:
            raise _missing(key, f"不认识的字段 {key}。", f"{key} is not a GeoReport v2 field.")
    if not form.get("service_code"):
        raise _missing(
            "service_code",
            "缺少 service_code（问题类别，见 services.json）。",
            "service_code is required (see services.json).",
        )
    if not form.get("lat") or not form.get("long"):
        raise _missing(
            "lat",
            "缺少 lat 和 long（WGS84）；本系统不能只按地址定位。",
            "lat and long (WGS84) are required; an address alone cannot be located.",
        )
    description = form.get("description", "")
    if len(description) > 4000:
        raise _missing("description", "description 最多 4000 字。", "description may be at most 4000 characters.")
    media = form.get("media_url") or None
    if media is not None and not MEDIA_URL.match(media):
        raise _missing("media_url", "media_url 须为 http(s) 网址。", "media_url must be an http(s) URL.")
    name = " ".join(p for p in (form.get("last_name", "").strip(), form.get("first_name", "").strip()) if p) or None
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    return PostedRequest(
        form["service_code"], lon, lat, description, attributes, name, form.get("phone") or None, media
    )


def _typed(category: Category, key: str, raw: str) -> Any:
    kind = category.attributes.get(key, {}).get("type")
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def to_report(posted: PostedRequest, category: Category, photo_ids: tuple[str, ...]) -> ReportIn:
    """The report ``gis.report.report_case`` stores (validation happens there, unchanged)."""
    attributes = {k: _typed(category, k, v) for k, v in posted.attributes.items() if k != "subtype"}
    geometry = {"type": "Point", "coordinates": [posted.lon, posted.lat]}
    return ReportIn(category.code, geometry, "EPSG:4326", posted.attributes.get("subtype") or None, attributes,
                    None, posted.description, photo_ids, posted.reporter_name, posted.reporter_phone)  # fmt: skip
