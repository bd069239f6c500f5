// Scanning a pack at the site's table: the scanner types the code and Enter into the scan
// field; the server reads it and the dose form is filled (product, lot, trace code), or the
// reason the pack may not be used is shown.
(function () {
  "use strict";
  var box = document.querySelector("[data-scan-url]");
  if (!box) return;
  var input = box.querySelector("input");
  var output = box.querySelector("[data-scan-result]");

  function show(text, isError) {
    output.textContent = text;
    output.className = "message " + (isError ? "error" : "success");
    output.hidden = false;
  }

  function read() {
    var code = input.value.trim();
    if (!code) return;
    fetch(box.dataset.scanUrl + "?code=" + encodeURIComponent(code), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.json(); })
      .then(function (pack) {
        if (pack.error) {
          document.getElementById("id_trace_code").value = "";
          show(pack.error, true);
          return;
        }
        document.getElementById("id_product").value = String(pack.product);
        document.getElementById("id_lot_number").value = pack.lot_number;
        document.getElementById("id_trace_code").value = pack.trace_code;
        show(box.dataset.okText.replace("{product}", pack.product_name)
          .replace("{lot}", pack.lot_number).replace("{expiry}", pack.expires_on), false);
        input.value = "";
      })
      .catch(function () { show(box.dataset.failText, true); });
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      read();
    }
  });
  input.addEventListener("change", read);
})();
