"""The projects map (项目进度图) for roads and water staff: projects by status, the built part solid
and the rest dashed, popups with planned against built quantities, totals per township beside it.

GeoJSON in (from :func:`gis.maps_layers.project_layers`), HTML out; one GeoJson layer per status.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import folium
from folium.utilities import JsCode

from maps.assets import AssetMode
from maps.elements import clean_feature, jinja_literal, styled_geojson
from maps.frame import AreaFrame, close_area_map, open_area_map, render
from maps.legend import LegendEntry, LegendSection

STATUS_COLOURS = {
    "planned": ("计划", "planned", "#8c8c8c"),
    "tendering": ("招标中", "tendering", "#8e44ad"),
    "under_construction": ("在建", "under construction", "#e67e22"),
    "completed": ("完工", "completed", "#2471a3"),
    "accepted": ("已验收", "accepted", "#1e8449"),
}
_e = html.escape
_TAG_JS = JsCode(
    """function (feature, layer) {
        layer.bindPopup(feature.properties.popup_html, {maxWidth: 340, className: "vm-popup-box"});
        var id = String(feature.properties.id);
        layer.on("add", function () {
            var el = layer.getElement && layer.getElement();
            if (el) { el.setAttribute("data-project-id", id); }
        });
    }"""
)
_POINT_JS = JsCode(
    """function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 7});
    }"""
)


@dataclass(frozen=True)
class ProjectMapData:
    """What the projects map shows (项目图数据): the frame, the kind and the layers from PostGIS."""

    frame: AreaFrame
    kind: str  # road | water
    layers: dict[str, Any]


def render_projects_map(data: ProjectMapData, *, assets: AssetMode) -> str:
    """The projects map as a full HTML document."""
    m = open_area_map(data.frame, assets)
    features = data.layers["projects"]["features"]
    entries = []
    for status, (zh, en, colour) in STATUS_COLOURS.items():
        mine = [f for f in features if f["properties"]["status"] == status]
        if not mine:
            continue
        group = folium.FeatureGroup(name=jinja_literal(f"{zh} {en} ({len(mine)})"))
        styled_geojson([_project(f) for f in mine], _style(colour, dashed=True), on_each_feature=_TAG_JS,
                       point_to_layer=_POINT_JS).add_to(group)  # fmt: skip
        group.add_to(m.fmap)
        m.layers[f"status_{status}"] = group
        entries.append(LegendEntry(zh, en, "dash", stroke=colour, count=len(mine)))
    built = data.layers["built"]["features"]
    if built:
        group = folium.FeatureGroup(name=jinja_literal(f"已建部分 Built part ({len(built)})"))
        colours = {s: c for s, (_zh, _en, c) in STATUS_COLOURS.items()}
        styled_geojson(
            [clean_feature(f["geometry"], {"id": f["properties"]["id"], "status": f["properties"]["status"]})
             for f in built],
            lambda f: _style(colours.get(f["properties"]["status"], "#555555"), dashed=False)(f),
            interactive=False,
        ).add_to(group)  # fmt: skip
        group.add_to(m.fmap)
        m.layers["built"] = group
    entries += [
        LegendEntry("已建部分（实线）", "built part (solid)", "line", stroke="#444444"),
        LegendEntry("未建部分（虚线）", "not yet built (dashed)", "dash", stroke="#444444"),
    ]
    what = "道路项目 Road projects" if data.kind == "road" else "水务项目 Water projects"
    fmap = close_area_map(m, data.frame, [LegendSection(what, tuple(entries))], side_html=_totals(data))
    return render(fmap)


def _style(colour: str, *, dashed: bool) -> Any:
    def styler(_feature: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"color": colour, "weight": 4 if dashed else 7, "opacity": 0.95, "fillColor": colour}
        out |= {"fillOpacity": 0.15 if dashed else 0.45, "className": "vm-project" if dashed else "vm-built"}
        if dashed:
            out["dashArray"] = "10 7"
        return out

    return styler


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    number = float(value)
    text = f"{number:.0f}" if number == int(number) else f"{number:.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def _project(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    keep = {"id": p["id"], "status": p["status"], "popup_html": project_popup(p)}
    return clean_feature(feature["geometry"], keep, fid=p["id"])


def project_popup(p: dict[str, Any]) -> str:
    """Project popup: planned against built km, guardrail, speed bumps, area, money, stations, deadline."""
    overdue = ' <span class="vm-overdue-tag">已逾期 overdue</span>' if p.get("overdue") else ""
    stations = "、".join(_e(str(s)) for s in p.get("stations") or []) or "—"
    rows = [
        ("编号 Code", _e(str(p.get("code", "")))),
        ("类型 Type", f"{_e(str(p.get('category_label') or ''))} · {_e(str(p.get('subtype') or ''))}"),
        ("状态 Status", f"{_e(str(p.get('status_label') or ''))} {_e(str(p.get('status') or '').replace('_', ' '))}"),
        ("计划/已建 Planned/built", f"{_num(p.get('planned_km'), ' km')} / {_num(p.get('built_km'), ' km')}"),
        ("线位长度 Measured", _num(p.get("measured_km"), " km")),
        ("防护栏 Guardrail", _num(p.get("guardrail_km"), " km")),
        ("减速带 Speed bumps", _num(p.get("speed_bumps"), " 条")),
        ("面积 Area", _num(p.get("area_mu"), " 亩")),
        ("投资/已完成 Money", f"{_num(p.get('investment_wan'), ' 万元')} / {_num(p.get('spent_wan'), ' 万元')}"),
        ("进度 Progress", _num(p.get("progress_pct"), " %")),
        ("监测站 Stations", stations),
        ("完成时限 Deadline", _e(str(p.get("deadline") or "—")) + overdue),
        ("牵头单位 Lead unit", _e(str(p.get("lead_unit") or "—"))),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    head = f'<div class="vm-popup-title">{_e(str(p.get("name") or ""))}</div>'
    return f'<div class="vm-popup">{head}<table>{table}</table></div>'


def _totals(data: ProjectMapData) -> str:
    """分乡镇合计 / totals per township, beside the map."""
    rows = data.layers.get("totals") or []
    cols = ("projects", "planned_km", "built_km", "guardrail_km", "speed_bumps", "area_mu", "done")
    labels = ("乡镇", "项目", "计划km", "已建km", "护栏km", "减速带", "亩", "完工")
    head = "<tr>" + "".join(f"<th>{label}</th>" for label in labels) + "</tr>"
    body = "".join(
        f"<tr><td>{_e(str(r.get('township_name') or '跨乡镇/未定'))}</td>"
        + "".join(f"<td>{_num(r.get(c))}</td>" for c in cols)
        + "</tr>"
        for r in rows
    )
    sums = {c: sum(float(r.get(c) or 0) for r in rows) for c in cols}
    foot = "<tr><td>合计 Total</td>" + "".join(f"<td>{_num(sums[c])}</td>" for c in cols) + "</tr>"
    return (
        '<aside class="vm-side" id="vm-totals"><h2>分乡镇合计 Totals by township</h2>'
        f"<table><thead>{head}</thead><tbody>{body}</tbody><tfoot>{foot}</tfoot></table></aside>"
    )
