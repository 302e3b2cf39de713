/* 公共部分 — what every field page shares: sign-in token, API calls, the bar, the queue list.
 *
 * The bearer token is kept in this phone's localStorage ("vm.token") and sent as an
 * Authorization header by the page's JavaScript; signing out removes it and the offline copies
 * of data (the service worker's "vm-data" cache and the saved worklist).
 */
(function (root) {
  "use strict";
  var VM = root.VM = root.VM || {};
  var DATA_CACHE = "vm-data";

  function $(sel, el) { return (el || document).querySelector(sel); }
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { el.textContent = attrs[k]; }
      else if (k.slice(0, 2) === "on") { el.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { el.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) { el.append(c); } });
    return el;
  }

  var auth = {
    token: function () { return localStorage.getItem("vm.token"); },
    me: function () { try { return JSON.parse(localStorage.getItem("vm.me") || "null"); } catch (e) { return null; } },
    user: function () { var me = auth.me(); return auth.token() && me ? me.username : null; },
    save: function (token, me) { localStorage.setItem("vm.token", token); localStorage.setItem("vm.me", JSON.stringify(me)); },
    clear: function () {
      localStorage.removeItem("vm.token"); localStorage.removeItem("vm.me");
      return forgetData();
    },
    headers: function () { var t = auth.token(); return t ? { Authorization: "Bearer " + t } : {}; },
  };

  function forgetData() {
    var jobs = [VM.store ? VM.store.clearKv() : Promise.resolve()];
    if (root.caches) { jobs.push(caches.delete(DATA_CACHE)); }
    return Promise.all(jobs).catch(function () { return null; });
  }

  /** GET JSON with the token; resolves {status, data, cachedAt} (cachedAt set when the service worker answered from its cache). */
  function getJSON(url) {
    return fetch(url, { headers: auth.headers() }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        return { status: r.status, data: data, cachedAt: r.headers.get("x-vm-cached-at") };
      });
    });
  }

  function problemText(data, status) {
    if (data && (data.detail_zh || data.detail)) { return (data.detail_zh || "") + (data.detail ? " / " + data.detail : ""); }
    return "服务器返回 " + status + " / server answered " + status;
  }

  function time(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    if (isNaN(d)) { return String(iso); }
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function netBadge() {
    var b = $("#net");
    if (!b) { return; }
    var on = navigator.onLine;
    b.className = "badge " + (on ? "net-on" : "net-off");
    b.textContent = on ? "在线" : "离线";
  }

  function registerWorker() {
    var note = $("#no-sw");
    if (!("serviceWorker" in navigator)) {
      if (note) { note.hidden = false; }
      return Promise.resolve(null);
    }
    var none = function () { if (note) { note.hidden = false; } return null; };
    return navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).then(function (reg) { return reg || none(); }, none);
  }

  /** Watch the phone's position (WGS84); ``onFix({lon, lat, accuracy, at})``; errors go to ``onError``. */
  function watchPosition(onFix, onError) {
    if (!navigator.geolocation) { if (onError) { onError("此浏览器不能定位 / no geolocation"); } return null; }
    return navigator.geolocation.watchPosition(function (pos) {
      onFix({ lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy, at: pos.timestamp });
    }, function (err) {
      if (onError) { onError(err.code === 1 ? "定位被拒绝：请在浏览器设置中允许定位 / location permission denied" : "暂时无法定位 / no fix yet"); }
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  }

  /** Queue a write (sent now when there is a network) and ask for background sync where the browser has it. */
  function enqueue(item) {
    var full = Object.assign({ user: auth.user(), token: auth.token() }, item);
    return VM.outbox.add(full).then(function (id) {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync && reg.sync.register("vm-outbox"); }).catch(function () { return null; });
      }
      kick();
      return id;
    });
  }

  /** Ask the service worker to keep these URLs for offline reading (patrol maps, …). */
  function warm(urls) {
    if (navigator.serviceWorker && navigator.serviceWorker.controller && urls.length) {
      navigator.serviceWorker.controller.postMessage({ type: "warm", urls: urls });
    }
  }

  var retryTimer = null, retryMs = 3000;
  /** Send the queue now; while items are left waiting and the phone seems online, try again after 3 s, 6 s, … 60 s. */
  function kick() {
    clearTimeout(retryTimer);
    return VM.outbox.flush().then(function (left) {
      if (left && navigator.onLine) { retryTimer = setTimeout(kick, retryMs); retryMs = Math.min(retryMs * 2, 60000); }
      else { retryMs = 3000; }
      return left;
    });
  }

  function start() {
    netBadge();
    root.addEventListener("online", function () { netBadge(); retryMs = 3000; kick(); });
    root.addEventListener("offline", netBadge);
    registerWorker();
    VM.outbox.onChange(function () { VM.queueView.refresh(); });
    VM.queueView.refresh();
    kick();
  }

  VM.$ = $; VM.h = h; VM.auth = auth; VM.getJSON = getJSON; VM.problemText = problemText; VM.time = time;
  VM.watchPosition = watchPosition; VM.start = start; VM.forgetData = forgetData; VM.DATA_CACHE = DATA_CACHE;
  VM.enqueue = enqueue; VM.warm = warm; VM.kick = kick;
})(window);
