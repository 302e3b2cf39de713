/* 首页 — sign in, then the tiles of the user's role. */
(function () {
  "use strict";
  var VM = window.VM, $ = VM.$, h = VM.h;

  var TILES = {
    grid_manager: [["report", "上报问题", "Report"], ["worklist", "本网格工单", "My grid's cases"], ["patrol", "巡查图", "Patrol map"]],
    inspector: [["worklist", "待核查结案", "Cases to check"], ["report", "上报问题", "Report"]],
    contractor: [["worklist", "派遣给我的", "Dispatched to us"]],
    village_official: [["report", "上报问题", "Report"], ["worklist", "本村工单", "Village cases"]],
    water_staff: [["report", "上报问题", "Report"], ["worklist", "黑臭水体", "Water bodies"]],
    admin: [["report", "上报问题", "Report"], ["worklist", "工单", "Cases"]],
  };
  var DEFAULT_TILES = [["worklist", "工单", "Cases"]];

  function tiles(me) {
    var list = [];
    (TILES[me.role] || DEFAULT_TILES).forEach(function (t) {
      if (t[0] === "patrol") {
        (me.areas || []).filter(function (a) { return a.length === 15; }).forEach(function (grid) {
          list.push(h("a", { class: "btn", href: "/m/patrol/" + grid }, [t[1], h("span", { class: "en", text: grid })]));
        });
        return;
      }
      list.push(h("a", { class: "btn" + (list.length ? "" : " primary"), href: "/m/" + t[0] }, [t[1], h("span", { class: "en", text: t[2] })]));
    });
    return list;
  }

  function showHome(me, offline) {
    $("#signin").hidden = true;
    $("#home").hidden = false;
    $("#signout-box").hidden = false;
    $("#offline-me").hidden = !offline;
    $("#hello").textContent = (me.display_name || me.username) + "（" + (me.role_label || me.role) + "）";
    var box = $("#tiles");
    box.replaceChildren.apply(box, tiles(me));
  }

  function showSignin(message) {
    $("#signin").hidden = false;
    $("#home").hidden = true;
    $("#signout-box").hidden = true;
    var err = $("#signin-error");
    err.hidden = !message;
    err.textContent = message || "";
  }

  function loadMe() {
    return VM.getJSON("/auth/me").then(function (r) {
      if (r.status === 200) {
        VM.auth.save(VM.auth.token(), r.data);
        showHome(r.data, !!r.cachedAt);
      } else if (r.status === 401) {
        VM.auth.clear().then(function () { showSignin("登录已过期，请重新登录。/ Your sign-in expired; sign in again."); });
      } else {
        showHome(VM.auth.me() || { username: "?" }, true);
      }
    }, function () {
      var me = VM.auth.me();
      if (me) { showHome(me, true); } else { showSignin("离线：无法登录。/ Offline: cannot sign in."); }
    });
  }

  function signIn(ev) {
    ev.preventDefault();
    var form = new URLSearchParams({ username: $("#username").value.trim(), password: $("#password").value });
    fetch("/auth/token", { method: "POST", body: form }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; });
    }).then(function (r) {
      if (r.status !== 200) { showSignin(VM.problemText(r.data, r.status)); return null; }
      var token = r.data.access_token;
      return VM.forgetData().then(function () {
        return fetch("/auth/me", { headers: { Authorization: "Bearer " + token } });
      }).then(function (res) { return res.json(); }).then(function (me) {
        VM.auth.save(token, me);
        return VM.outbox.retoken(me.username, token).then(function () {
          VM.kick();
          VM.queueView.refresh();
          showHome(me, false);
        });
      });
    }).catch(function () { showSignin("网络不通，无法登录。/ No network: cannot sign in."); });
  }

  VM.start();
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", function () {
    VM.auth.clear().then(function () { VM.queueView.refresh(); showSignin(""); });
  });
  if (VM.auth.token()) { loadMe(); } else { showSignin(""); }
})();
