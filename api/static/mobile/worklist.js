/* 工单 — the signed-in user's cases, overdue first then by deadline (or by patrol route), with the
 * live distance from the phone; kept on the phone for reading offline. */
(function () {
  "use strict";
  var VM = window.VM, $ = VM.$, h = VM.h;
  var OPEN = "reported,registered,assigned,in_progress,resolved,suspended";
  var STATUSES = { inspector: "resolved", contractor: "assigned,in_progress" };
  var MAX_PAGES = 5;
  var features = [], fix = null, routeOrder = null, routeTried = false, sortBy = "deadline";

  function byDeadline(a, b) {
    var p = a.properties, q = b.properties;
    if (!!p.overdue !== !!q.overdue) { return p.overdue ? -1 : 1; }
    if (p.deadline !== q.deadline) {
      if (!p.deadline) { return 1; }
      if (!q.deadline) { return -1; }
      return p.deadline < q.deadline ? -1 : 1;
    }
    return a.id - b.id;
  }

  function byRoute(a, b) {
    var ra = routeOrder[a.id], rb = routeOrder[b.id];
    if (ra !== undefined && rb !== undefined) { return ra - rb; }
    if (ra !== undefined || rb !== undefined) { return ra !== undefined ? -1 : 1; }
    return byDeadline(a, b);
  }

  function card(f) {
    var p = f.properties;
    var tags = [h("span", { class: "tag", text: p.category_label || p.category }), " ",
      h("span", { class: "tag status", text: p.status_label || p.status })];
    if (p.overdue) { tags.push(" ", h("span", { class: "tag overdue", text: "逾期 overdue" })); }
    var links = [h("a", { class: "btn primary", href: "/m/cases/" + f.id, text: "详情 Open" })];
    if (p.grid_code) { links.push(h("a", { class: "btn", href: "/m/patrol/" + p.grid_code, text: "巡查图 Map" })); }
    return h("li", { class: "card" + (p.overdue ? " overdue" : ""), "data-case-id": f.id, "data-overdue": String(!!p.overdue),
      "data-deadline": p.deadline || "", "data-status": p.status }, [
      h("h3", { text: p.title || p.code }),
      h("div", {}, tags),
      h("div", { class: "meta", text: (p.code || "") + " · " + (p.village_name || "") + (p.subtype ? " · " + p.subtype : "") }),
      h("div", { class: "meta", text: "期限 " + (p.deadline || "未定") + " · 上报 " + VM.time(p.reported_at) }),
      h("div", {}, [h("span", { class: "dist", text: "距您 —" })]),
      h("div", { class: "links" }, links),
    ]);
  }

  function render() {
    var list = features.slice().sort(sortBy === "route" && routeOrder ? byRoute : byDeadline);
    var ul = $("#cases");
    ul.replaceChildren.apply(ul, list.map(card));
    $("#empty").hidden = list.length > 0;
    distances();
  }

  function distances() {
    if (!fix) { return; }
    var byId = {};
    features.forEach(function (f) { byId[f.id] = f; });
    document.querySelectorAll("#cases .card").forEach(function (li) {
      var f = byId[li.dataset.caseId], d = VM.geo.distance(f.geometry, fix.lon, fix.lat);
      li.querySelector(".dist").textContent = "距您 " + VM.geo.format(d);
      li.dataset.distance = isFinite(d) ? d.toFixed(1) : "";
    });
  }

  function fetchAll(url, pages, acc) {
    return VM.getJSON(url).then(function (r) {
      if (r.status !== 200) { throw new Error(VM.problemText(r.data, r.status)); }
      acc.features = acc.features.concat(r.data.features);
      acc.cachedAt = acc.cachedAt || r.cachedAt;
      var next = (r.data.links || []).filter(function (l) { return l.rel === "next"; })[0];
      if (!next || pages <= 1) { return acc; }
      var u = new URL(next.href, location.href);
      return fetchAll(u.pathname + u.search, pages - 1, acc);
    });
  }

  function load(me) {
    var statuses = STATUSES[me.role] || OPEN, key = "worklist:" + me.username;
    var url = "/cases?mine=true&status=" + statuses + "&limit=1000";
    return fetchAll(url, MAX_PAGES, { features: [], cachedAt: null }).then(function (got) {
      features = got.features;
      $("#list-info").textContent = got.cachedAt ? "离线：显示 " + VM.time(got.cachedAt) + " 保存的工单。" : "共 " + features.length + " 件，" + features.filter(function (f) { return f.properties.overdue; }).length + " 件逾期。";
      if (!got.cachedAt) { VM.store.put(key, { at: new Date().toISOString(), features: features }); }
      render();
    }).catch(function () {
      return VM.store.get(key).then(function (saved) {
        features = saved ? saved.features : [];
        $("#list-info").textContent = saved ? "离线：显示 " + VM.time(saved.at) + " 保存的工单。/ Offline copy." : "离线，且本机没有保存的工单。/ Offline, nothing saved.";
        render();
      });
    });
  }

  function grids(me) { return (me.areas || []).filter(function (a) { return a.length === 15; }); }

  function tryRoute(me) {
    var mine = grids(me);
    if (mine.length !== 1 || !fix || routeTried || !navigator.onLine) { return; }
    routeTried = true;  // once per page: the order of a round does not change with every GPS fix
    VM.getJSON("/m/api/features").then(function (r) {
      if (!(r.status === 200 && r.data.patrol_route)) { return null; }
      return VM.getJSON("/grids/" + mine[0] + "/patrol-route?start=" + fix.lon.toFixed(6) + "," + fix.lat.toFixed(6)).then(function (route) {
        if (route.status !== 200) { return; }
        routeOrder = {};
        route.data.features.forEach(function (f) {
          var p = f.properties || {};
          if (p.case_id !== undefined && p.seq !== undefined) { routeOrder[p.case_id] = p.seq; }
        });
        $("#sort-route").disabled = false;
        $("#sort-route").title = "";
      });
    }).catch(function () { return null; });
  }

  function setSort(which) {
    sortBy = which;
    $("#sort-deadline").setAttribute("aria-pressed", String(which === "deadline"));
    $("#sort-route").setAttribute("aria-pressed", String(which === "route"));
    render();
  }

  VM.start();
  var me = VM.auth.me();
  if (!VM.auth.token() || !me) {
    $("#list-info").replaceChildren("请先登录。", h("a", { href: "/m/", text: "去登录 Sign in" }));
    return;
  }
  var patrol = grids(me).map(function (g) { return "/m/patrol/" + g; });
  var links = $("#patrol-links");
  links.replaceChildren.apply(links, patrol.map(function (u) { return h("a", { class: "btn", href: u, text: "网格巡查图 " + u.slice(-15) }); }));
  VM.warm(patrol);
  $("#sort-deadline").addEventListener("click", function () { setSort("deadline"); });
  $("#sort-route").addEventListener("click", function () { setSort("route"); });
  load(me);
  VM.watchPosition(function (f) {
    fix = f;
    $("#where").textContent = "您的位置 ±" + Math.round(f.accuracy) + " 米 · " + f.lon.toFixed(5) + ", " + f.lat.toFixed(5);
    distances();
    tryRoute(me);
  }, function (msg) { $("#where").textContent = msg; });
})();
