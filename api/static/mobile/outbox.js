/* 待同步队列 — the offline queue: reports, photos and actions kept in IndexedDB until they are sent.
 *
 * Every write of the field pages goes through here, online or not: it is stored first (with its
 * own Idempotency-Key, the photos as bytes, the sender's token), then sent in order, one at a
 * time, by whichever page (or the service worker's background sync) holds the "vm-outbox" lock.
 * A retry after a lost answer carries the same key, so the server replays its first answer and
 * nothing is done twice. A refusal (409, 422 …) is kept on the item with the server's message —
 * never dropped silently; a 401 waits for the user to sign in again; no network, 429 or a server
 * error leave the item waiting for the next try. Runs in pages and in the service worker (no DOM).
 */
(function (root) {
  "use strict";
  var VM = root.VM = root.VM || {};
  var DB_NAME = "villagemap-m", KEEP_DONE_MS = 3 * 24 * 3600 * 1000;
  var dbPromise = null, listeners = [], channel = null, localBusy = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (ok, fail) {
        var req = root.indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
          req.result.createObjectStore("kv", { keyPath: "k" });
        };
        req.onsuccess = function () { ok(req.result); };
        req.onerror = function () { dbPromise = null; fail(req.error); };
      });
    }
    return dbPromise;
  }

  function run(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (ok, fail) {
        var tx = db.transaction(store, mode), result;
        var req = work(tx.objectStore(store));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { ok(result); };
        tx.onerror = tx.onabort = function () { fail(tx.error); };
      });
    });
  }

  var store = {
    get: function (k) { return run("kv", "readonly", function (s) { return s.get(k); }).then(function (r) { return r ? r.v : null; }); },
    put: function (k, v) { return run("kv", "readwrite", function (s) { return s.put({ k: k, v: v }); }); },
    clearKv: function () { return run("kv", "readwrite", function (s) { return s.clear(); }); },
  };

  function all() { return run("outbox", "readonly", function (s) { return s.getAll(); }); }
  function get(id) { return run("outbox", "readonly", function (s) { return s.get(id); }); }
  function patch(id, changes) {
    return run("outbox", "readwrite", function (s) {
      var req = s.get(id);
      req.onsuccess = function () { if (req.result) { s.put(Object.assign(req.result, changes)); } };
      return null;
    }).then(notify);
  }
  function remove(id) { return run("outbox", "readwrite", function (s) { return s.delete(id); }).then(notify); }

  function newKey() {
    if (root.crypto && root.crypto.randomUUID) { return "vm-" + root.crypto.randomUUID(); }
    var b = new Uint8Array(16); root.crypto.getRandomValues(b);
    return "vm-" + Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  /** Queue a write: {kind: "report"|"action", label, body, photos: [{data, type, name}], case_id, action, user, token}. */
  function add(item) {
    var full = Object.assign({ key: newKey(), status: "pending", created: new Date().toISOString(), photos: [], photo_ids: [],
      attempts: 0, error: null, result: null }, item);
    return run("outbox", "readwrite", function (s) { return s.add(full); }).then(function (id) { notify(); return id; });
  }

  /** After signing in again: the user's waiting items get the new token and are tried again. */
  function retoken(user, token) {
    return all().then(function (items) {
      return Promise.all(items.filter(function (i) { return i.user === user && ["pending", "sending", "blocked"].indexOf(i.status) >= 0; })
        .map(function (i) { return patch(i.id, { token: token, status: "pending" }); }));
    });
  }

  function notify() {
    listeners.forEach(function (fn) { try { fn(); } catch (e) { /* a broken view must not stop the queue */ } });
    if (channel) { channel.postMessage("changed"); }
  }
  function onChange(fn) { listeners.push(fn); }
  if (root.BroadcastChannel) { channel = new root.BroadcastChannel("vm-outbox"); channel.onmessage = function () { listeners.forEach(function (fn) { fn(); }); }; }

  function url(item) { return item.kind === "report" ? "/m/api/reports" : "/cases/" + item.case_id + "/" + item.action; }

  function outcome(status, data) {
    if (status >= 200 && status < 300) {
      var p = (data && data.properties) || {};
      return { status: "done", result: { id: data && data.id, code: p.code, grid_code: p.grid_code, status: p.status, status_label: p.status_label }, error: null };
    }
    var error = { status: status, detail_zh: data && data.detail_zh, detail: data && data.detail };
    if (status === 401) { return { status: "blocked", error: error, stop: false }; }
    if (status === 429 || status >= 500 || status === 408) { return { status: "pending", error: error, stop: true }; }
    return { status: "failed", error: error };
  }

  function post(path, headers, body) {
    return fetch(path, { method: "POST", headers: headers, body: body }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  async function send(item) {
    var auth = item.token ? { Authorization: "Bearer " + item.token } : {};
    var ids = (item.photo_ids || []).slice();
    for (var i = ids.length; i < item.photos.length; i++) {
      var p = item.photos[i], form = new FormData();
      form.append("file", new Blob([p.data], { type: p.type }), p.name || "photo.jpg");
      var up = await post("/photos", auth, form);
      if (up.status !== 201) { return outcome(up.status, up.data); }
      ids.push(up.data.id);
      await patch(item.id, { photo_ids: ids });
    }
    var body = Object.assign({}, item.body);
    if (item.photos.length) { body.photo_ids = ids; }
    var headers = Object.assign({ "Content-Type": "application/json", "Idempotency-Key": item.key }, auth);
    var answer = await post(url(item), headers, JSON.stringify(body));
    return outcome(answer.status, answer.data);
  }

  async function pass() {
    var tried = {};
    for (;;) {
      if (root.navigator && root.navigator.onLine === false) { return; }  // surely offline: wait for "online"
      var items = (await all()).filter(function (i) { return (i.status === "pending" || i.status === "sending") && !tried[i.id]; });
      if (!items.length) { return; }
      var item = items[0]; tried[item.id] = true;
      await patch(item.id, { status: "sending", attempts: (item.attempts || 0) + 1 });
      var result;
      try { result = await send(await get(item.id)); }
      catch (e) { result = { status: "pending", error: null, stop: true }; }  // no network: wait for the next try
      var changes = { status: result.status, error: result.error };
      if (result.result) { changes.result = result.result; changes.sent_at = new Date().toISOString(); changes.photos = []; }
      await patch(item.id, changes);
      if (result.stop) { return; }
    }
  }

  async function purge() {
    var now = Date.now();
    var old = (await all()).filter(function (i) { return i.status === "done" && now - Date.parse(i.sent_at || i.created) > KEEP_DONE_MS; });
    for (var i = 0; i < old.length; i++) { await remove(old[i].id); }
  }

  function waiting() {
    return all().then(function (items) { return items.filter(function (i) { return i.status === "pending" || i.status === "sending"; }).length; });
  }

  /** Send everything waiting, in order; one sender at a time across pages and the service worker.
   * Resolves to the number of items still waiting (no network, or the server asked to come back later). */
  function flush() {
    var job = function () { return pass().then(purge).then(waiting); };
    var done;
    if (root.navigator && root.navigator.locks) { done = root.navigator.locks.request("vm-outbox", job); }
    else { done = localBusy = (localBusy || Promise.resolve()).then(job, job); }
    return done.catch(function () { return 0; });
  }

  VM.store = store;
  VM.outbox = { add: add, all: all, get: get, remove: remove, patch: patch, retoken: retoken, flush: flush, onChange: onChange };
})(typeof self !== "undefined" ? self : this);
