/* 待同步列表 — the queue as people see it: each item with its state and the server's answer. */
(function (root) {
  "use strict";
  var VM = root.VM;
  var STATES = {
    pending: ["待同步", "waiting to send"],
    sending: ["正在发送", "sending"],
    done: ["已同步", "sent"],
    failed: ["未通过", "refused"],
    blocked: ["待重新登录", "sign in again"],
  };

  function mine(item) { return (item.user || null) === (VM.auth.user() || null); }

  function describe(item) {
    var h = VM.h, state = STATES[item.status] || [item.status, ""];
    var parts = [
      h("div", {}, [h("span", { class: "state", text: state[0] + " " }), h("span", { class: "en", text: state[1] })]),
      h("div", { text: item.label || "" }),
      h("div", { class: "note", text: "记录于 " + VM.time(item.created) + (item.attempts ? " · 已尝试 " + item.attempts + " 次" : "") }),
    ];
    if (item.status === "done" && item.result && item.result.id) {
      var what = (item.result.code ? "编号 " + item.result.code : "") + (item.result.grid_code ? " · 网格 " + item.result.grid_code : "");
      parts.push(h("a", { href: "/m/cases/" + item.result.id, text: what || "查看案件" }));
    }
    if (item.error && (item.error.detail_zh || item.error.detail)) {
      parts.push(h("div", { class: "server-message", text: "服务器：" + VM.problemText(item.error, item.error.status) }));
    }
    if (item.status === "blocked") { parts.push(h("a", { class: "btn", href: "/m/", text: "去登录 Sign in" })); }
    if (item.status === "failed" || item.status === "done") {
      parts.push(h("button", { class: "btn", type: "button", text: "移除 Dismiss", onclick: function () { VM.outbox.remove(item.id); } }));
    }
    if (item.status === "pending") {
      parts.push(h("button", { class: "btn", type: "button", text: "立即重试 Retry", onclick: function () { VM.kick(); } }));
    }
    return h("li", { "data-status": item.status, "data-key": item.key, "data-kind": item.kind }, parts);
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(draw, 30);
  }

  function draw() {
    VM.outbox.all().then(function (items) {
      var own = items.filter(mine).sort(function (a, b) { return b.id - a.id; });
      var waiting = own.filter(function (i) { return i.status !== "done"; }).length;
      var count = VM.$("#qcount");
      if (count) { count.hidden = waiting === 0; count.textContent = "待处理 " + waiting; }
      document.querySelectorAll("[data-queue]").forEach(function (list) {
        var only = list.getAttribute("data-queue");
        var shown = own.filter(function (i) { return !only || i.page === only; });
        list.replaceChildren.apply(list, shown.map(describe));
        var empty = list.parentElement && list.parentElement.querySelector(".queue-empty");
        if (empty) { empty.hidden = shown.length > 0; }
      });
      var others = items.filter(function (i) { return !mine(i) && i.status !== "done"; }).length;
      var note = VM.$("#queue-others");
      if (note) { note.hidden = others === 0; note.textContent = "本机另有 " + others + " 条其他账号的待同步内容，联网时照常发送。"; }
    }).catch(function () {
      var note = VM.$("#queue-error");
      if (note) { note.hidden = false; }
    });
  }

  VM.queueView = { refresh: refresh, STATES: STATES };
})(window);
