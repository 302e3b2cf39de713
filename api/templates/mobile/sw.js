/* VillageMap field pages' service worker (离线缓存): scope /m/.
 *
 * - Pages, scripts, icons and Leaflet are stored at install ("vm-static-<version>") and served
 *   from there first; a new version replaces them.
 * - Pages and the data the pages read (/auth/me, /cases…, /categories…, /m/api/…, patrol maps)
 *   go to the network first; a 200 answer is kept in "vm-data" and given back when there is no
 *   network (or it is too slow), marked with the header x-vm-cached-at so the page can say so.
 *   Signing out deletes "vm-data".
 * - Writes are never cached: they go through the page's queue (outbox.js); background sync, where
 *   the browser has it, sends the queue even after the page is closed.
 */
"use strict";
var VERSION = "__VERSION__";
var PRECACHE = __PRECACHE__;
var STATIC = "vm-static-" + VERSION;
var DATA = "vm-data";
var SLOW_MS = 6000;
importScripts("/m/static/outbox.js?v=" + VERSION);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.addAll(PRECACHE); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("vm-static-") === 0 && n !== STATIC; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function isStatic(path) { return path.indexOf("/m/static/") === 0 || path.indexOf("/static/vendor/") === 0; }
function isData(path) {
  return path === "/auth/me" || path.indexOf("/cases") === 0 || path.indexOf("/categories") === 0
    || path.indexOf("/m/api/cases/") === 0 || path === "/m/api/features" || path.indexOf("/m/patrol/") === 0
    || /^\/grids\/\d+\/patrol-route$/.test(path);
}

function remember(request, response) {
  if (response.status !== 200) { return response; }
  var headers = new Headers(response.headers);
  headers.set("x-vm-cached-at", new Date().toISOString());
  var copy = response.clone();
  copy.blob().then(function (body) {
    return caches.open(DATA).then(function (cache) {
      return cache.put(request, new Response(body, { status: 200, statusText: "OK", headers: headers }));
    });
  }).catch(function () { return null; });
  return response;
}

function cached(request, path) {
  return caches.match(request, { cacheName: DATA }).then(function (hit) {
    if (hit) { return hit; }
    return caches.match(request, { cacheName: STATIC, ignoreSearch: true }).then(function (page) {
      if (page || request.mode !== "navigate") { return page; }
      var shell = /^\/m\/cases\/\d+$/.test(path) ? "/m/case" : "/m/";
      return caches.match(shell, { cacheName: STATIC });
    });
  });
}

function networkFirst(request, path) {
  var network = fetch(request).then(function (r) { return remember(request, r); });
  var slow = new Promise(function (resolve) { setTimeout(resolve, SLOW_MS); });
  var fallback = function () {
    return cached(request, path).then(function (hit) { return hit || network; });
  };
  var offline = network.catch(function () { return null; }).then(function (r) { return r || fallback(); });
  return Promise.race([offline, slow.then(function () { return cached(request, path).then(function (hit) { return hit || offline; }); })]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  var path = url.pathname;
  if (isStatic(path)) {
    event.respondWith(caches.match(request, { cacheName: STATIC, ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  } else if ((request.mode === "navigate" && path.indexOf("/m/") === 0) || isData(path)) {
    event.respondWith(networkFirst(request, path));
  }
});

self.addEventListener("message", function (event) {
  var msg = event.data || {};
  if (msg.type === "warm" && Array.isArray(msg.urls)) {
    event.waitUntil(Promise.all(msg.urls.map(function (u) {
      return fetch(u).then(function (r) { return remember(new Request(u), r); }).catch(function () { return null; });
    })));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "vm-outbox") { event.waitUntil(self.VM.outbox.flush()); }
});
