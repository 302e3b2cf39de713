/* 上报 — photo first, location (photo EXIF, GPS or a tap), category buttons, duplicates nearby, send via the queue. */
(function () {
  "use strict";
  var VM = window.VM, $ = VM.$, h = VM.h;
  var state = { photo: null, place: null, gps: null, category: null, subtype: null, attributes: {}, challenge: null };
  var map = VM.maps.make("map"), showMe = VM.maps.me(map), pin = null, nearbyLayer = null;
  var SOURCES = { exif: "照片位置", gps: "手机定位", map: "地图点选" };

  function setPlace(place) {
    state.place = place;
    var at = [place.lat, place.lon];
    if (!pin) { pin = L.marker(at, { title: "问题位置" }).addTo(map); } else { pin.setLatLng(at); }
    map.setView(at, Math.max(map.getZoom(), 17));
    var acc = place.accuracy ? " ±" + Math.round(place.accuracy) + " 米" : "";
    $("#place-info").textContent = "位置：" + SOURCES[place.source] + acc + " · " + place.lon.toFixed(6) + ", " + place.lat.toFixed(6);
    checkNearby();
  }

  function onPhoto(ev) {
    var file = ev.target.files && ev.target.files[0];
    if (!file) { return; }
    $("#photo-info").textContent = "正在处理照片…";
    VM.photo.prepare(file).then(function (photo) {
      state.photo = photo;
      var img = $("#photo-preview");
      img.src = URL.createObjectURL(new Blob([photo.data], { type: photo.type }));
      img.hidden = false;
      var e = photo.exif || {}, info = "照片 " + photo.width + "×" + photo.height + "，" + Math.round(photo.data.byteLength / 1024) + " KB";
      if (isFinite(e.lat) && isFinite(e.lon)) {
        info += "；照片位置 " + e.lon.toFixed(6) + ", " + e.lat.toFixed(6);
        $("#use-exif").disabled = false;
        setPlace({ lon: e.lon, lat: e.lat, source: "exif" });
      } else { info += "；照片没有位置信息"; $("#use-exif").disabled = true; }
      if (e.time) { info += "；拍摄于 " + e.time; }
      $("#photo-info").textContent = info;
    }, function () {
      state.photo = null;
      $("#photo-info").textContent = "无法读取这张照片，请换一张 JPEG 照片。/ This photo cannot be read; use a JPEG.";
    });
  }

  function pick(container, button) {
    container.querySelectorAll("[aria-pressed]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
  }

  function choices(values, chosen) {
    var box = h("div", { class: "choices" });
    values.forEach(function (value) {
      var label = value === true ? "是" : value === false ? "否" : String(value);
      box.append(h("button", { type: "button", class: "choice", "aria-pressed": "false", "data-value": String(value), text: label,
        onclick: function (ev) { pick(box, ev.currentTarget); chosen(value); } }));
    });
    return box;
  }

  function onCategory(ev) {
    var button = ev.currentTarget, subtypes = JSON.parse(button.dataset.subtypes), attrs = JSON.parse(button.dataset.attributes);
    pick($("#categories"), button);
    state.category = button.dataset.code; state.subtype = null; state.attributes = {};
    var sub = $("#subtypes");
    sub.replaceChildren(choices(subtypes, function (v) { state.subtype = v; }));
    $("#subtype-box").hidden = subtypes.length === 0;
    var box = $("#attribute-box");
    box.replaceChildren();
    Object.keys(attrs).forEach(function (key) {
      var spec = attrs[key], title = h("h2", {}, [spec.label_zh || key, " ", h("span", { class: "en", text: spec.label_en || key })]);
      var set = function (v) { state.attributes[key] = v; };
      if (spec.type === "choice") { box.append(title, choices(spec.values || [], set)); }
      else if (spec.type === "boolean") { box.append(title, choices([true, false], set)); }
      else if (spec.type === "number") {
        box.append(title, h("input", { type: "number", inputmode: "decimal", "data-attr": key,
          oninput: function (e) { var n = parseFloat(e.target.value); if (isFinite(n)) { set(n); } else { delete state.attributes[key]; } } }));
      }
    });
    checkNearby();
  }

  function checkNearby() {
    if (!state.category || !state.place) { return; }
    var section = $("#nearby-step"), list = $("#nearby");
    section.hidden = false;
    if (!navigator.onLine) { $("#nearby-info").textContent = "离线：联网后才能查看附近是否已有人上报。"; list.replaceChildren(); return; }
    var q = "/categories/" + state.category + "/nearby?lon=" + state.place.lon.toFixed(7) + "&lat=" + state.place.lat.toFixed(7);
    VM.getJSON(q).then(function (r) {
      if (r.status !== 200 || r.cachedAt) { $("#nearby-info").textContent = "暂时无法查重。"; list.replaceChildren(); return; }
      var feats = r.data.features;
      $("#nearby-info").textContent = feats.length ? "方圆 " + r.data.radius_m + " 米内已有 " + feats.length + " 件同类问题未结案，请确认不是同一处：" : "方圆 " + r.data.radius_m + " 米内没有同类未结案问题。";
      list.replaceChildren.apply(list, feats.map(function (f) {
        var p = f.properties;
        return h("li", { class: "card", "data-case-id": f.id }, [h("h3", { text: p.title }),
          h("div", { class: "meta", text: (p.status_label || p.status) + " · 距此 " + VM.geo.format(p.distance_m) + " · " + VM.time(p.reported_at) }),
          h("a", { href: "/m/cases/" + f.id, text: "查看 " + p.code })]);
      }));
      if (nearbyLayer) { map.removeLayer(nearbyLayer); }
      nearbyLayer = VM.maps.cases(feats, "#b36200").addTo(map);
    }, function () { $("#nearby-info").textContent = "离线：无法查重。"; });
  }

  function loadChallenge() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem("vm.challenge") || "null"); } catch (e) { saved = null; }
    if (saved && saved.expires_at * 1000 > Date.now() + 600000) { showChallenge(saved); return; }
    if (!navigator.onLine) { $("#human-info").textContent = "离线：匿名上报需先联网取一道验证题。"; return; }
    VM.getJSON("/m/api/challenge").then(function (r) {
      if (r.status === 200) { localStorage.setItem("vm.challenge", JSON.stringify(r.data)); showChallenge(r.data); }
    }, function () { $("#human-info").textContent = "离线：匿名上报需先联网取一道验证题。"; });
  }
  function showChallenge(c) { state.challenge = c; $("#human-question").textContent = c.question_zh + "（" + c.question + "）"; }

  function fail(message) { var e = $("#form-error"); e.textContent = message; e.hidden = !message; }

  function body() {
    var b = { category: state.category, geometry: { type: "Point", coordinates: [+state.place.lon.toFixed(7), +state.place.lat.toFixed(7)] },
      attributes: state.attributes, description: $("#description").value.trim() };
    if (state.subtype) { b.subtype = state.subtype; }
    if (!VM.auth.token()) {
      var name = $("#reporter-name").value.trim(), phone = $("#reporter-phone").value.trim();
      if (name || phone) { b.reporter = { name: name || null, phone: phone || null }; }
      b.human_check = { token: state.challenge ? state.challenge.token : "", answer: $("#human-answer").value.trim() };
    }
    return b;
  }

  function submit(ev) {
    ev.preventDefault();
    if (!state.place) { fail("请先定位：拍照、用手机定位或在地图上点选。/ Set the location first."); return; }
    if (!state.category) { fail("请选择问题类别。/ Choose what the problem is."); return; }
    if (!VM.auth.token() && !$("#human-answer").value.trim()) { fail("请回答验证问题。/ Answer the check question."); return; }
    fail("");
    var label = "上报 " + $("#categories [aria-pressed=true]").dataset.label + (state.subtype ? " · " + state.subtype : "");
    var photos = state.photo ? [{ data: state.photo.data, type: state.photo.type, name: "report.jpg" }] : [];
    VM.enqueue({ kind: "report", page: "report", label: label, body: body(), photos: photos }).then(function () {
      state.photo = null; $("#photo-preview").hidden = true; $("#description").value = ""; $("#human-answer").value = "";
      $("#photo-info").textContent = "已保存。可以继续上报下一件。/ Saved; you may report the next one.";
      $("#result").scrollIntoView();
    }, function () { fail("无法保存到本机，请重试。/ Could not save on this phone."); });
  }

  VM.start();
  $("#photo-camera").addEventListener("change", onPhoto);
  $("#photo-file").addEventListener("change", onPhoto);
  $("#categories").querySelectorAll(".cat").forEach(function (b) { b.addEventListener("click", onCategory); });
  $("#report-form").addEventListener("submit", submit);
  $("#use-gps").addEventListener("click", function () {
    if (state.gps) { setPlace(Object.assign({ source: "gps" }, state.gps)); } else { $("#place-info").textContent = "正在定位…"; }
  });
  $("#use-exif").addEventListener("click", function () {
    var e = state.photo && state.photo.exif;
    if (e && isFinite(e.lat)) { setPlace({ lon: e.lon, lat: e.lat, source: "exif" }); }
  });
  map.on("click", function (ev) { setPlace({ lon: ev.latlng.lng, lat: ev.latlng.lat, source: "map" }); });
  VM.watchPosition(function (fix) {
    state.gps = fix; showMe(fix);
    if (!state.place) { setPlace(Object.assign({ source: "gps" }, fix)); }
    else if (state.place.source === "gps") {  // follow the phone until another source is chosen
      state.place = Object.assign({ source: "gps" }, fix);
      pin.setLatLng([fix.lat, fix.lon]);
      $("#place-info").textContent = "位置：手机定位 ±" + Math.round(fix.accuracy) + " 米 · " + fix.lon.toFixed(6) + ", " + fix.lat.toFixed(6);
    }
  }, function (msg) { if (!state.place) { $("#place-info").textContent = msg + "；可以在地图上点选位置。"; } });
  if (!VM.auth.token()) { $("#anonymous-step").hidden = false; loadChallenge(); }
})();
