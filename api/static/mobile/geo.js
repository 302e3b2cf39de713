/* 现场距离 — the live distance from the phone to a case, computed like the server does.
 *
 * The server measures ST_Distance(case::geography, position::geography): the ellipsoidal (WGS84)
 * distance to the nearest point of the case geometry, 0 inside a polygon. On the phone the same is
 * done in a local tangent plane centred on the phone: a longitude difference is scaled by the
 * prime-vertical radius N·cos(lat) and a latitude difference by the meridional radius M, both of
 * the WGS84 ellipsoid at the phone's latitude. Points, segments and rings are projected into that
 * plane and the distance to the nearest segment is taken (point-in-ring test for polygons, holes
 * respected). Within a few hundred metres the scale changes by less than 1e-4, so the error is
 * millimetres for anything near the phone; a segment kilometres long bends slightly on the
 * ellipsoid (its sagitta is below 0.4 m for 5 km at 38°N), so at ≤ 200 m the result stays within a
 * metre of the server (tests/test_mobile_browser.py compares both).
 */
(function (root) {
  "use strict";
  var A = 6378137.0, F = 1 / 298.257223563, E2 = F * (2 - F), RAD = Math.PI / 180;

  function frame(lon0, lat0) {
    var s = Math.sin(lat0 * RAD), w = Math.sqrt(1 - E2 * s * s);
    var kx = (A / w) * Math.cos(lat0 * RAD) * RAD;      // metres per degree of longitude
    var ky = (A * (1 - E2)) / (w * w * w) * RAD;        // metres per degree of latitude
    return function (c) { return [(c[0] - lon0) * kx, (c[1] - lat0) * ky]; };
  }

  function segment(a, b) {  // distance from the origin (the phone) to segment a-b
    var dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy, t = 0;
    if (len2 > 0) { t = Math.max(0, Math.min(1, -(a[0] * dx + a[1] * dy) / len2)); }
    var x = a[0] + t * dx, y = a[1] + t * dy;
    return Math.sqrt(x * x + y * y);
  }

  function line(points) {
    if (points.length === 1) { return Math.sqrt(points[0][0] * points[0][0] + points[0][1] * points[0][1]); }
    var best = Infinity;
    for (var i = 1; i < points.length; i++) { best = Math.min(best, segment(points[i - 1], points[i])); }
    return best;
  }

  function holds(ring) {  // the origin lies inside the ring (even-odd rule)
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > 0) !== (b[1] > 0) && 0 < ((b[0] - a[0]) * (0 - a[1])) / (b[1] - a[1]) + a[0]) { inside = !inside; }
    }
    return inside;
  }

  function polygon(rings) {
    var edge = Math.min.apply(null, rings.map(line));
    var inside = holds(rings[0]) && !rings.slice(1).some(holds);
    return inside ? 0 : edge;
  }

  function measure(geom, p) {
    var c = geom.coordinates, pts = function (list) { return list.map(p); };
    switch (geom.type) {
      case "Point": return line([p(c)]);
      case "MultiPoint": return Math.min.apply(null, pts(c).map(function (q) { return line([q]); }));
      case "LineString": return line(pts(c));
      case "MultiLineString": return Math.min.apply(null, c.map(function (l) { return line(pts(l)); }));
      case "Polygon": return polygon(c.map(pts));
      case "MultiPolygon": return Math.min.apply(null, c.map(function (r) { return polygon(r.map(pts)); }));
      case "GeometryCollection": return Math.min.apply(null, geom.geometries.map(function (g) { return measure(g, p); }));
      default: return NaN;
    }
  }

  /** Metres from (lon, lat) to the nearest point of a GeoJSON geometry (0 inside a polygon). */
  function distance(geom, lon, lat) {
    if (!geom || !geom.type) { return NaN; }
    return measure(geom, frame(lon, lat));
  }

  /** "23 米" / "1.2 公里" for people. */
  function format(metres) {
    if (!isFinite(metres)) { return "—"; }
    if (metres < 1000) { return Math.round(metres) + " 米"; }
    return (metres / 1000).toFixed(1) + " 公里";
  }

  root.VM = root.VM || {};
  root.VM.geo = { distance: distance, format: format };
})(typeof self !== "undefined" ? self : this);
