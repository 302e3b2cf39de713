/* 案件 — one case: facts, photos, history, map with the live distance, and the on-site actions
 * (start, resolve with a photo, close inside the radius, return with a reason), sent via the queue. */
(function () {
  "use strict";
  var VM = window.VM, $ = VM.$, h = VM.h;
  var id = (location.pathname.match(/^\/m\/cases\/(\d+)$/) || [])[1];
  var state = { feature: null, allowed: null, fix: null, photos: {}, keys: {}, seen: {} };
  var map = VM.maps.make("map"), showMe = VM.maps.me(map), caseLayer = null;
  var LABELS = { start: "开始处置", resolve: "处置完毕", close: "现场结案", "return": "核查不通过" };

  function fact(dt, dd) { return dd ? [h("dt", { text: dt }), h("dd", { text: dd })] : []; }

  function render(f, note) {
    var p = f.properties, facts = $("#case-facts");
    state.feature = f;
    document.title = (p.code || "案件") + " · VillageMap";
    $("#case-title").textContent = p.title || p.code;
    $("#case-source").hidden = !note; $("#case-source").textContent = note || "";
    var rows = [].concat(fact("编号", p.code), fact("类别", (p.category_label || p.category) + (p.subtype ? " · " + p.subtype : "")),
      fact("状态", (p.status_label || p.status) + (p.overdue ? "（逾期）" : "")), fact("期限", p.deadline),
      fact("村", p.village_name), fact("网格", p.grid_code), fact("处置单位", p.assignee_unit), fact("上报", VM.time(p.reported_at)));
    if (p.reporter && !p.reporter.erased) { rows = rows.concat(fact("上报人", [p.reporter.name, p.reporter.phone].filter(Boolean).join(" "))); }
    facts.replaceChildren.apply(facts, rows);
    $("#case-description").textContent = p.description || "";
    if (p.location_precision === "village") { $("#case-description").textContent = "（位置只公开到村 / location shown at village level）"; }
    if (caseLayer) { map.removeLayer(caseLayer); }
    caseLayer = VM.maps.cases([f]).addTo(map);
    map.fitBounds(caseLayer.getBounds(), { maxZoom: 18, padding: [30, 30] });
    live();
  }

  function fromSnapshot() {
    var user = VM.auth.user();
    return (user ? VM.store.get("worklist:" + user) : Promise.resolve(null)).then(function (saved) {
      var f = saved && saved.features.filter(function (x) { return String(x.id) === id; })[0];
      if (f) { render(f, "离线：显示 " + VM.time(saved.at) + " 保存的工单内容。/ Offline copy."); }
      else { $("#case-title").textContent = "离线，本机没有这个案件。/ Offline; this case is not saved here."; }
    });
  }

  function loadCase() {
    return VM.getJSON("/cases/" + id).then(function (r) {
      if (r.status === 200) { render(r.data, r.cachedAt ? "离线：显示 " + VM.time(r.cachedAt) + " 保存的内容。/ Offline copy." : ""); return true; }
      $("#case-title").textContent = VM.problemText(r.data, r.status);
      return false;
    }, fromSnapshot);
  }

  function loadActions() {
    if (!VM.auth.token()) { return Promise.resolve(); }
    return VM.getJSON("/m/api/cases/" + id + "/actions").then(function (r) {
      state.allowed = r.status === 200 ? r.data : null;
      showActions();
    }, function () { $("#action-info").textContent = "离线且本机没有保存可做的操作。/ Offline: actions unknown."; $("#actions").hidden = false; });
  }

  function showActions() {
    var a = state.allowed, acts = a ? a.actions : [];
    $("#actions").hidden = !a || !acts.length;
    ["start", "resolve", "close", "return"].forEach(function (name) { $("#act-" + name).hidden = acts.indexOf(name) < 0; });
    $("#do-start").disabled = pending("start");
    if (a) { $("#action-info").textContent = "结案范围 " + a.closeout_radius_m + " 米，定位精度须 ≤ " + a.accuracy_limit_m + " 米。"; }
    live();
  }

  function thumb(p) {
    return fetch(p.thumbnail_url, { headers: VM.auth.headers() }).then(function (r) { return r.ok ? r.blob() : null; }).then(function (b) {
      return b ? h("img", { src: URL.createObjectURL(b), alt: "照片 " + (p.taken || ""), title: p.taken || "" }) : null;
    }).catch(function () { return null; });
  }

  function loadPhotos() {
    var f = state.feature;
    if (!f || f.properties.location_precision === "village") { return Promise.resolve(); }
    return VM.getJSON("/cases/" + id + "/photos").then(function (r) {
      if (r.status !== 200 || !r.data.photos.length) { return; }
      return Promise.all(r.data.photos.map(thumb)).then(function (imgs) {
        var box = $("#photos");
        box.replaceChildren.apply(box, imgs.filter(Boolean));
        $("#photos-box").hidden = false;
      });
    }, function () { return null; });
  }

  function loadEvents() {
    return VM.getJSON("/cases/" + id + "/events").then(function (r) {
      if (r.status !== 200) { return; }
      var ul = $("#events");
      ul.replaceChildren.apply(ul, r.data.events.map(function (e) {
        var text = VM.time(e.at) + " " + (e.action_label || e.action) + (e.actor ? " · " + e.actor : "") + (e.note ? " · " + e.note : "");
        if (e.accuracy_m !== null && e.accuracy_m !== undefined) { text += " · 定位 ±" + Math.round(e.accuracy_m) + " 米"; }
        return h("li", { text: text });
      }));
    }, function () { return null; });
  }

  function pending(action) { return state.keys[action] && !state.seen[state.keys[action]]; }

  function live() {
    var f = state.feature, a = state.allowed, fix = state.fix, box = $("#live");
    if (!f || !fix) { return; }
    var d = VM.geo.distance(f.geometry, fix.lon, fix.lat);
    $("#live-summary").textContent = "您距此问题 " + VM.geo.format(d) + "（定位 ±" + Math.round(fix.accuracy) + " 米）";
    if (!a || a.actions.indexOf("close") < 0) { return; }
    var near = d <= a.closeout_radius_m, sharp = fix.accuracy <= a.accuracy_limit_m, ok = near && sharp;
    box.className = "live " + (ok ? "inside" : "outside");
    box.dataset.distance = d.toFixed(1);
    box.dataset.accuracy = String(fix.accuracy);
    box.replaceChildren(
      h("div", { text: "距离 " + d.toFixed(0) + " 米（须 ≤ " + a.closeout_radius_m + " 米）" + (near ? " ✓" : " ✗") }),
      h("div", { text: "定位精度 ±" + Math.round(fix.accuracy) + " 米（须 ≤ " + a.accuracy_limit_m + " 米）" + (sharp ? " ✓" : " ✗") }),
      h("div", { class: "en", text: "distance " + d.toFixed(0) + " m, accuracy " + Math.round(fix.accuracy) + " m" }));
    $("#do-close").disabled = !(ok && state.photos.close && !pending("close"));
  }

  function takePhoto(which) {
    return function (ev) {
      var file = ev.target.files && ev.target.files[0];
      if (!file) { return; }
      VM.photo.prepare(file).then(function (photo) {
        state.photos[which] = photo;
        var img = $("#" + which + "-preview");
        img.src = URL.createObjectURL(new Blob([photo.data], { type: photo.type })); img.hidden = false;
        if (which === "resolve") { $("#do-resolve").disabled = pending("resolve"); }
        live();
      }, function () { $("#action-info").textContent = "无法读取这张照片，请换一张。/ This photo cannot be read."; });
    };
  }

  function act(action, body, photo) {
    var version = state.allowed ? state.allowed.version : state.feature.properties.version;
    var item = { kind: "action", page: "case:" + id, case_id: Number(id), action: action,
      label: LABELS[action] + " " + (state.feature.properties.code || "#" + id), body: Object.assign({ version: version }, body),
      photos: photo ? [{ data: photo.data, type: photo.type, name: action + ".jpg" }] : [] };
    return VM.enqueue(item).then(function (qid) {
      return VM.outbox.get(qid).then(function (stored) { state.keys[action] = stored.key; });
    }).then(function () {
      $("#act-" + action).querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
  }

  function closeNow() {
    var fix = state.fix;
    if (!fix) { $("#action-info").textContent = "还没有定位。/ No position yet."; return; }
    act("close", { position: { type: "Point", coordinates: [+fix.lon.toFixed(7), +fix.lat.toFixed(7)] }, accuracy_m: fix.accuracy }, state.photos.close);
  }

  function onQueue() {  // an action of this page was answered: show the case as it is now
    VM.outbox.all().then(function (items) {
      var fresh = items.filter(function (i) { return i.page === "case:" + id && (i.status === "done" || i.status === "failed") && !state.seen[i.key]; });
      if (!fresh.length) { return; }
      fresh.forEach(function (i) { state.seen[i.key] = true; });
      refresh();
    });
  }

  function refresh() { return loadCase().then(function () { return Promise.all([loadActions(), loadPhotos(), loadEvents()]); }); }

  VM.start();
  if (!id) { $("#case-title").textContent = "离线，本机没有这个案件。/ Offline; this case is not saved here."; return; }
  document.querySelectorAll("[data-queue=case]").forEach(function (el) { el.setAttribute("data-queue", "case:" + id); });
  VM.outbox.all().then(function (items) { items.forEach(function (i) { if (i.status === "done" || i.status === "failed") { state.seen[i.key] = true; } }); });
  VM.outbox.onChange(onQueue);
  $("#resolve-photo").addEventListener("change", takePhoto("resolve"));
  $("#close-photo").addEventListener("change", takePhoto("close"));
  $("#return-note").addEventListener("input", function (e) { $("#do-return").disabled = !e.target.value.trim() || pending("return"); });
  $("#do-start").addEventListener("click", function () { act("start", {}); });
  $("#do-resolve").addEventListener("click", function () {
    var note = $("#resolve-note").value.trim();
    act("resolve", note ? { note: note } : {}, state.photos.resolve);
  });
  $("#do-close").addEventListener("click", closeNow);
  $("#do-return").addEventListener("click", function () { act("return", { note: $("#return-note").value.trim() }); });
  VM.watchPosition(function (fix) {
    var first = !state.fix;
    state.fix = fix; showMe(fix); live();
    if (first && caseLayer && VM.geo.distance(state.feature.geometry, fix.lon, fix.lat) < 2000) {
      map.fitBounds(caseLayer.getBounds().extend([fix.lat, fix.lon]), { maxZoom: 18, padding: [30, 30] });
    }
  }, function (msg) { $("#live").textContent = msg; });
  refresh();
})();
