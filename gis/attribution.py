"""Data attribution (数据来源与许可) shown on the home page and on every map."""

from __future__ import annotations

ATTRIBUTION = (
    "行政区划代码、名称、区县轮廓与乡镇驻地：Vonng/adcode（CC BY 4.0，数据源自国家统计局与高德，"
    "已由 GCJ-02 转换为 WGS84）；黄河：Made with Natural Earth；乡镇、村、网格边界及道路沟渠为示意"
    "（synthetic），非权威地图。"
)
ATTRIBUTION_EN = (
    "Codes, names, county outlines and township seats: Vonng/adcode (CC BY 4.0; from NBS China and "
    "Amap; converted GCJ-02→WGS84). Yellow River: Made with Natural Earth. Township, village and "
    "grid boundaries, roads and ditches are synthetic sample data, not an authoritative map."
)
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
