/* Field work: keep what a worker typed on the phone until the server has it.
 *
 * A form with data-draft-key is saved to localStorage on every change and restored when
 * the page is opened again (after a reload, a crash or a lost signal). The key is dropped
 * when the server confirms the save (the round page then carries data-saved-draft). File
 * inputs cannot be kept: the worker chooses the photo again. Sending with no signal is
 * held back with a message instead of losing the page. */
(function () {
  "use strict";

  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }
  var store = storage();

  var saved = document.querySelector("[data-saved-draft]");
  if (saved && store) store.removeItem(saved.getAttribute("data-saved-draft"));

  var banner = document.querySelector("[data-net-status]");
  function showNetwork() {
    if (!banner) return;
    banner.hidden = navigator.onLine;
    banner.textContent = navigator.onLine ? "" : (document.documentElement.lang.indexOf("zh") === 0
      ? "无信号：填写的内容保存在本机。" : "No signal: what you type is kept on this phone.");
  }
  window.addEventListener("online", showNetwork);
  window.addEventListener("offline", showNetwork);
  showNetwork();

  var form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  var key = form.getAttribute("data-draft-key");

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "submit" && el.name !== "csrfmiddlewaretoken";
    });
  }

  function save() {
    if (!store) return;
    var data = {};
    fields().forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) data[el.name] = el.value;
      } else {
        data[el.name] = el.value;
      }
    });
    try { store.setItem(key, JSON.stringify(data)); } catch (error) { /* storage full */ }
  }

  function restore() {
    var raw = store && store.getItem(key);
    if (!raw) return false;
    var data;
    try { data = JSON.parse(raw); } catch (error) { return false; }
    fields().forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(data, el.name)) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === data[el.name];
      else el.value = data[el.name];
    });
    return true;
  }

  /* Show the proof field for outcomes that need proof, the reason for those that need one. */
  var needs = {
    proof: (form.getAttribute("data-proof-outcomes") || "").split(" "),
    reason: (form.getAttribute("data-reason-outcomes") || "").split(" ")
  };
  function toggle() {
    var chosen = form.querySelector("input[name=outcome]:checked");
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-for]"), function (block) {
      var wanted = needs[block.getAttribute("data-show-for")] || [];
      block.hidden = !chosen || wanted.indexOf(chosen.value) === -1;
    });
  }

  if (restore()) {
    var notice = document.querySelector("[data-draft-restored]");
    if (notice) notice.hidden = false;
  }
  toggle();
  form.addEventListener("input", save);
  form.addEventListener("change", function () { save(); toggle(); });
  form.addEventListener("submit", function (event) {
    save();
    if (!navigator.onLine) {
      event.preventDefault();
      var kept = document.querySelector("[data-offline-kept]");
      if (kept) kept.hidden = false;
    }
  });
})();
