"""On-site close-out (现场结案销号): the inspector must stand near the case, and say so precisely.

The inspector's position (WGS84, CGCS2000, GCJ-02 or BD-09, converted before the check) must lie
within the category's close-out radius of the case geometry — a point, a line or a polygon (0
inside) — measured on the ellipsoid, with a GPS accuracy within the category's limit. Black-odorous
water also needs passing water-quality measurements. A phone can lie about its position: the
close-out keeps the accuracy and the photos' EXIF evidence, and flags what does not add up.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, text

from geoalchemy2.shape import from_shape

from gis.actions import ActionIn, Change, Step, require_photos
from gis.errors import CloseoutRefused, InvalidField
from gis.geoinput import read_geometry, read_point
from gis.photos_db import evidence
from gis.sqlgeom import wkb

DISTANCE = text("""
SELECT ST_Distance(c.geom::geography, ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)::geography)
FROM cases c WHERE c.id = :id
""")


def check_accuracy(a: ActionIn, limit: float) -> float:
    """The GPS accuracy (定位精度) in metres, present, finite and within the category's limit."""
    value = a.accuracy_m
    if value is None or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise InvalidField(
            "accuracy_m",
            "结案须提供定位精度 accuracy_m（米，非负数）。",
            "A close-out needs accuracy_m in metres (≥ 0).",
        )
    if value > limit:
        raise CloseoutRefused(
            f"定位精度 {value:.0f} 米，超出允许的 {limit:.0f} 米：请到开阔处等待定位更准后再结案。",
            f"Your GPS accuracy is {value:.0f} m; close-out needs ≤ {limit:.0f} m. Wait for a better fix in the open.",
            reason="accuracy",
            accuracy_m=value,
            accuracy_limit_m=limit,
        )
    return float(value)


def _distance_check(conn: Connection, case_id: int, position_wkb: str, limit: float) -> float:
    return refuse_far(float(conn.execute(DISTANCE, {"wkb": position_wkb, "id": case_id}).scalar_one()), limit)


def refuse_far(distance: float, limit: float) -> float:
    """The distance (米) if within the close-out radius; refused with both figures otherwise."""
    if distance > limit:
        shown = f"{distance:.0f}" if round(distance) > limit else f"{distance:.1f}"  # never looks within the limit
        raise CloseoutRefused(
            f"您距该问题 {shown} 米，超出结案范围 {limit:.0f} 米。",
            f"You are {shown} m from this case; close-out needs ≤ {limit:.0f} m.",
            reason="distance",
            distance_m=round(distance, 1),
            limit_m=limit,
        )
    return distance


def check_water_quality(rules: dict[str, Any], measurements: dict[str, Any] | None) -> dict[str, float]:
    """Measurements required by the category (水质指标) must be present, numeric and passing."""
    if not rules:
        return {}
    names = "、".join(f"{spec['label_zh']}（{key}）" for key, spec in rules.items())
    if not measurements:
        raise CloseoutRefused(
            f"黑臭水体销号须附水质监测数据：{names}。",
            f"Striking off a black-odorous water body needs measurements: {', '.join(rules)}.",
            reason="water_quality_missing",
            required=list(rules),
        )
    values, failed = {}, []
    for key, spec in rules.items():
        value = measurements.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidField(
                f"measurements.{key}", f"缺少或无效的{spec['label_zh']}数值。", f"{key} is missing or not a number."
            )
        values[key] = float(value)
        if ("min" in spec and value < spec["min"]) or ("max" in spec and value > spec["max"]):
            bound = f"≥ {spec['min']}" if "min" in spec else f"≤ {spec['max']}"
            failed.append((key, spec["label_zh"], value, f"{bound} {spec.get('unit', '')}".strip()))
    if failed:
        zh = "；".join(f"{label} {value}（须 {bound}）" for _k, label, value, bound in failed)
        en = "; ".join(f"{key} {value} (needs {bound})" for key, _l, value, bound in failed)
        raise CloseoutRefused(f"水质未达标，不能销号：{zh}。", f"Water quality does not pass: {en}.",
                              reason="water_quality_failed", failed=[f[0] for f in failed])  # fmt: skip
    return values


def close(ctx: Step) -> Change:
    """结案销号 / close on site: position, accuracy, photo; distance and category rules enforced."""
    conn, row, a, max_vertices = ctx.conn, ctx.row, ctx.a, ctx.max_vertices
    if a.position is None:
        raise InvalidField("position", "结案须提供核查人员当前位置（position，GeoJSON 点）。",
                           "A close-out needs the inspector's position (a GeoJSON Point).")  # fmt: skip
    position = read_point(a.position, crs=a.crs, field="position")
    accuracy = check_accuracy(a, float(row.accuracy_limit_m))
    require_photos(conn, a, "结案", "A close-out")
    position_wkb = wkb(position.geom)
    distance = _distance_check(conn, int(row.id), position_wkb, float(row.closeout_radius_m))
    water = check_water_quality(dict(row.closeout_rules).get("water_quality", {}), a.measurements)
    updates: dict[str, Any] = {}
    if a.remedied_geometry is not None:
        remedied = read_geometry(a.remedied_geometry, crs=a.crs, max_vertices=max_vertices, field="remedied_geometry")
        updates["remedied_geom"] = from_shape(remedied.geom, srid=4326)
    data = {"distance_m": round(distance, 1), "evidence": evidence(conn, a.photo_ids, position_wkb)}
    if water:
        data["measurements"] = water
    event = {"position": position.geom, "accuracy_m": accuracy, "datum": str(position.datum), "data": data}
    return Change(updates, event, photos_checked=True)
