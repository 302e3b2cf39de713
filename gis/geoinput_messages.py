"""Messages of the geometry checks (几何校验提示语): what is wrong and what to do, Chinese and English.

Keys are what :mod:`gis.geoinput` raises; the reason code sent with the error is the key unless
``REASON`` says otherwise. Placeholders are filled by the check that fails.
"""

from __future__ import annotations

# Names of the levels above a position, for locations in messages: (Chinese, English).
LEVELS = {
    "Polygon": (("环", "ring"),),
    "MultiLineString": (("线", "line"),),
    "MultiPolygon": (("面", "polygon"), ("环", "ring")),
}
# Messages by key: what is wrong and what to do, Chinese (ZH) and English (EN); the reason code is
# the key unless REASON says otherwise.
ZH = {
    "not_geojson": "需要 GeoJSON 几何对象 {{type, coordinates}}，收到 {got}",
    "feature": "收到的是 {type}，此处请只发送其中的几何（geometry 成员）",
    "unknown_type": "未知的几何类型 {type}{hint_zh}；可用：{allowed_zh}",
    "type_not_allowed": "此处不接受 {type}；可用的类型：{allowed_zh}",
    "legacy_crs_member": "GeoJSON 内不能带 crs 成员（RFC 7946 已废除）；"
    "请以 WGS84 经纬度提交，或用单独的 crs 字段声明坐标系",
    "not_array": "coordinates 应为数组，收到 {got}；请按该类型的嵌套层数提供 [经度, 纬度]",
    "position_size": "位置应为 [经度, 纬度] 或 [经度, 纬度, 高程]，收到 {count} 个数",
    "not_number": "坐标必须是数字，收到 {got}；请勿用字符串、布尔值或 null",
    "not_finite": "坐标不能是 {got}（NaN 或无穷大），请提供有效的经纬度",
    "empty": "几何为空，请至少提供一个 [经度, 纬度]",
    "empty_part": "该部分为空，请删除或补全",
    "too_many_vertices": "共 {count} 个点，超过上限 {limit}；请先简化（抽稀）几何再提交",
    "projected_coordinates": "{pair} 像是以米为单位的投影坐标（如 EPSG:4545、EPSG:3857）；"
    "只接受经纬度：EPSG:4326、EPSG:4490、GCJ-02 或 BD-09，请先转换",
    "swapped_lon_lat": "{pair} 经纬度顺序颠倒，GeoJSON 为 [经度, 纬度]，应为 {fixed}",
    "out_of_range": "{pair} 超出范围：经度须在 -180～180，纬度须在 -90～90",
    "converted_range": "由 {datum} 转换为 WGS84 后为 {pair}，超出经纬度范围；请检查声明的坐标系 crs",
    "unclosed_ring": "{where_zh}未闭合：首点 {first} 与末点 {last} 不同；请在末尾重复第一个点",
    "ring_few": "{where_zh}至少需要 4 个位置（首尾相同），收到 {count} 个；请补全",
    "line_few": "{line_zh}至少需要 2 个不同的点，收到 {count} 个；请补全",
    "invalid": "几何无效{after_zh}：{problem_zh}，位置 {at}；请在绘图工具中修正后重新提交（系统不会自动修复）",
}
EN = {
    "not_geojson": "expected a GeoJSON geometry object {{type, coordinates}}, got {got}",
    "feature": "got a {type}; send only its geometry (the 'geometry' member) here",
    "unknown_type": "unknown geometry type {type}{hint_en}; allowed: {allowed_en}",
    "type_not_allowed": "{type} is not accepted here; allowed types: {allowed_en}",
    "legacy_crs_member": "a 'crs' member inside GeoJSON is not accepted (RFC 7946 removed it); "
    "send WGS84 lon/lat or declare the datum in the separate 'crs' field",
    "not_array": "coordinates: expected an array, got {got}; nest [lon, lat] positions as this type requires",
    "position_size": "a position is [lon, lat] or [lon, lat, altitude], got {count} numbers",
    "not_number": "coordinates must be numbers, got {got}; do not send strings, booleans or null",
    "not_finite": "{got} is not a finite number; send a real lon/lat",
    "empty": "the geometry is empty; send at least one [lon, lat] position",
    "empty_part": "this part is empty; remove or complete it",
    "too_many_vertices": "{count} positions exceed the limit of {limit}; simplify the geometry and send it again",
    "projected_coordinates": "{pair} looks like a projected CRS in metres (e.g. EPSG:4545/3857); "
    "only lon/lat in EPSG:4326, EPSG:4490, GCJ-02 or BD-09 are accepted: convert first",
    "swapped_lon_lat": "{pair}: longitude and latitude look swapped: GeoJSON is [lon, lat], i.e. {fixed}",
    "out_of_range": "{pair} is out of range: longitude must be within ±180, latitude within ±90",
    "converted_range": "{pair} after conversion from {datum} to WGS84 is out of range; check the declared crs",
    "unclosed_ring": "{where_en} is not closed: first position {first} differs from last {last}; "
    "repeat the first position at the end",
    "ring_few": "{where_en} needs at least 4 positions (first = last), got {count}; add positions",
    "line_few": "{line_en} needs at least 2 distinct positions, got {count}; add positions",
    "invalid": "invalid geometry{after_en}: {problem} at {at}; fix it in the drawing tool and send it again "
    "(it is not repaired automatically)",
}
REASON = {
    "feature": "not_geometry",
    "not_array": "bad_coordinates",
    "position_size": "bad_coordinates",
    "not_number": "bad_coordinates",
    "empty_part": "empty",
    "converted_range": "out_of_range",
    "ring_few": "too_few_points",
    "line_few": "too_few_points",
}
VALIDITY_ZH = {
    "Self-intersection": "边自相交",
    "Ring Self-intersection": "环自相交（环在一点上接触自身）",
    "Too few points": "点数太少（去掉重复点后不足以构成线或环）",
    "Hole lies outside shell": "内环（洞）位于外环之外",
    "Nested shells": "多个面相互嵌套",
    "Interior is disconnected": "面内部不连通（内环把面分割开）",
    "Duplicate Rings": "存在重复的环",
    "Nested holes": "内环相互嵌套",
    "Invalid Coordinate": "坐标无效",
}
