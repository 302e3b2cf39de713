/* 小地图 — Leaflet maps of the field pages: no tile server (works offline), a scale, the phone's
 * position with its accuracy circle, case geometries. Leaflet takes [lat, lon]; GeoJSON is [lon, lat]. */
(function (root) {
  "use strict";
  var VM = root.VM;

  function make(id, center) {
    var map = L.map(id, { zoomControl: true, attributionControl: false });
    map.setView(center ? [center.lat, center.lon] : [38.0, 106.3], center ? 17 : 9);
    L.control.scale({ imperial: false }).addTo(map);
    return map;
  }

  function me(map) {
    var dot = null, ring = null;
    return function (fix) {
      var at = [fix.lat, fix.lon];
      if (!dot) {
        ring = L.circle(at, { radius: fix.accuracy || 0, color: "#0a3d8f", weight: 1, fillOpacity: 0.12 }).addTo(map);
        dot = L.circleMarker(at, { radius: 8, color: "#fff", weight: 3, fillColor: "#0a3d8f", fillOpacity: 1 }).addTo(map);
      } else {
        dot.setLatLng(at); ring.setLatLng(at); ring.setRadius(fix.accuracy || 0);
      }
    };
  }

  function cases(features, color) {
    return L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function () { return { color: color || "#d00000", weight: 4, fillOpacity: 0.2 }; },
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 10, color: "#fff", weight: 3, fillColor: color || "#d00000", fillOpacity: 1 }); },
    });
  }

  VM.maps = { make: make, me: me, cases: cases };
})(window);
