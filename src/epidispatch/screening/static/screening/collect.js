/* Screening collection on a phone: keep what the collector typed until the server has it.
 *
 * Like the field-work visit form: a form with data-draft-key is saved to localStorage on
 * every change and restored when the page opens again (a reload, a crash, a lost
 * signal); the key is dropped when the server confirms the save (data-saved-draft).
 * Sending with no signal is held back with a message instead of losing the page. */
(function () {
  "use strict";

  var store = null;
  try { store = window.localStorage; } catch (error) { store = null; }

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
      return el.name && el.type !== "submit" && el.name !== "csrfmiddlewaretoken";
    });
  }
  function save() {
    if (!store) return;
    var data = {};
    fields().forEach(function (el) { data[el.name] = el.value; });
    try { store.setItem(key, JSON.stringify(data)); } catch (error) { /* storage full */ }
  }
  function restore() {
    var raw = store && store.getItem(key);
    if (!raw) return false;
    var data;
    try { data = JSON.parse(raw); } catch (error) { return false; }
    var restored = false;
    fields().forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(data, el.name) && data[el.name] && !el.value) {
        el.value = data[el.name];
        restored = true;
      }
    });
    return restored;
  }

  if (restore()) {
    var notice = document.querySelector("[data-draft-restored]");
    if (notice) notice.hidden = false;
  }
  /* A scanner types the code and Enter: the barcode's Enter moves on to the ID number. */
  var barcode = form.querySelector("[name=barcode]");
  var idNumber = form.querySelector("[name=id_number]");
  if (barcode && idNumber) {
    barcode.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && barcode.value.trim()) { event.preventDefault(); idNumber.focus(); }
    });
    (barcode.value ? idNumber : barcode).focus();
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", function (event) {
    save();
    if (!navigator.onLine) {
      event.preventDefault();
      var kept = document.querySelector("[data-offline-kept]");
      if (kept) kept.hidden = false;
    }
  });
})();
