// The checkpoint check (二码联查 · 见码): scan a certificate's QR code and check its Ed25519
// signature in the browser against the keys embedded in the page. Nothing here needs the
// network once the page is loaded: the keys, the revocation list and the QR reader (zxing-wasm,
// fetched on load) are all local. The payload format is that of certificates/payload.py:
//   EPC1.<key id>.<base64url body>.<base64url signature over "EPC1.<key id>.<body>">
(function () {
  "use strict";
  const root = document.querySelector("[data-checkpoint]");
  const trust = JSON.parse(document.getElementById("certificate-keys").textContent);
  const text = JSON.parse(document.getElementById("checkpoint-text").textContent);
  const revoked = new Set(trust.revoked);
  const result = root.querySelector("[data-result]");
  const PENDING = "epidispatch:checkpoint:pending";
  const SETTINGS = "epidispatch:checkpoint:settings";
  const B64URL = /^[A-Za-z0-9_-]+$/;

  const reader = ZXingWASM.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? root.dataset.wasm : prefix + path) },
    fireImmediately: true,
  });

  const keys = Promise.all(
    trust.keys.map(async (jwk) => [
      jwk.kid,
      await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, { name: "Ed25519" }, false, ["verify"]),
    ]),
  ).then((pairs) => new Map(pairs));
  // Marks the page as able to work offline: the reader's code is in memory, the keys imported.
  Promise.all([reader, keys]).then(() => {
    root.dataset.ready = "true";
  });

  function fromBase64url(part) {
    const padded = part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  // The same checks, in the same order, as payload.verify on the server.
  async function verify(payload) {
    payload = payload.trim();
    const parts = payload.split(".");
    if (payload.length > 4000 || parts.length !== 4 || parts[0] !== "EPC1" || !parts.slice(1).every((p) => B64URL.test(p))) {
      return { valid: false, reason: "malformed" };
    }
    const [, kid, body, sig] = parts;
    let signature, raw;
    try {
      signature = fromBase64url(sig);
      raw = fromBase64url(body);
    } catch (error) {
      return { valid: false, reason: "malformed" };
    }
    if (signature.length !== 64) return { valid: false, reason: "malformed" };
    const key = (await keys).get(kid);
    if (!key) return { valid: false, reason: "unknown_key", kid };
    const signed = new TextEncoder().encode(payload.slice(0, payload.lastIndexOf(".")));
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed))) {
      return { valid: false, reason: "tampered", kid };
    }
    let claim;
    try {
      claim = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch (error) {
      return { valid: false, reason: "malformed", kid };
    }
    if (!claim || !["c", "n", "i", "d", "s", "t"].every((k) => k in claim)) return { valid: false, reason: "malformed", kid };
    if (revoked.has(claim.c)) return { valid: false, reason: "revoked", kid, claim };
    return { valid: true, reason: null, kid, claim };
  }

  function show(outcome, payload) {
    const state = outcome.valid ? (outcome.claim.s ? "vaccinated" : "incomplete") : outcome.reason === "revoked" ? "revoked" : "invalid";
    result.hidden = false;
    result.dataset.state = state;
    result.dataset.reason = outcome.reason || "";
    result.querySelector("[data-verdict]").textContent = text.states[state];
    result.querySelector("[data-why]").textContent = outcome.valid || outcome.reason === "revoked" ? "" : text.reasons[outcome.reason];
    const claim = outcome.claim;
    const facts = result.querySelector("[data-facts]");
    facts.hidden = !claim;
    if (claim) {
      facts.querySelector("[data-name]").textContent = claim.n;
      facts.querySelector("[data-id]").textContent = claim.i;
      facts.querySelector("[data-issued]").textContent = claim.t.slice(0, 16).replace("T", " ") + (claim.u ? " · " + claim.u[1] : "");
      const list = facts.querySelector("[data-doses]");
      list.replaceChildren(
        ...claim.d.map(([product, day, lot]) => {
          const item = document.createElement("li");
          item.textContent = `${day} · ${trust.products[product] || product}${lot ? " · " + lot : ""}`;
          return item;
        }),
      );
    }
    const record = root.querySelector("[data-record-form]");
    if (record) {
      record.hidden = state === "vaccinated";
      record.elements.payload.value = payload;
      // A forged or unreadable code proves no identity: the staff type the ID number.
      record.querySelector("[data-identity]").hidden = Boolean(claim);
      record.elements.name.value = claim ? claim.n : "";
      record.querySelector("[data-record-status]").textContent = "";
    }
  }

  async function check(payload) {
    show(await verify(payload), payload);
  }

  async function scanImage(source) {
    const found = await ZXingWASM.readBarcodes(source, { formats: ["QRCode"], tryHarder: true });
    return found.length ? found[0].text : null;
  }

  root.querySelector("[data-manual]").addEventListener("submit", (event) => {
    event.preventDefault();
    check(event.target.elements.code.value);
  });

  root.querySelector("[data-photo]").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const payload = await scanImage(file);
    if (payload === null) {
      show({ valid: false, reason: "unreadable" }, "");
    } else {
      check(payload);
    }
    event.target.value = "";
  });

  const video = root.querySelector("video");
  root.querySelector("[data-camera]").addEventListener("click", async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      show({ valid: false, reason: "camera" }, "");
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const tick = async () => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const payload = canvas.width ? await scanImage(context.getImageData(0, 0, canvas.width, canvas.height)) : null;
      if (payload === null) {
        setTimeout(tick, 200);
        return;
      }
      stream.getTracks().forEach((track) => track.stop());
      video.hidden = true;
      check(payload);
    };
    tick();
  });

  // The one-tap record: sent at once, or kept on the phone until the network is back.
  const record = root.querySelector("[data-record-form]");
  if (record) {
    const saved = JSON.parse(localStorage.getItem(SETTINGS) || "{}");
    if (saved.place) record.elements.place.value = saved.place;
    if (saved.unit) record.elements.unit.value = saved.unit;
    const status = record.querySelector("[data-record-status]");

    async function send(entry) {
      const response = await fetch(record.action, {
        method: "POST",
        body: new URLSearchParams(entry),
        headers: { "X-CSRFToken": record.elements.csrfmiddlewaretoken.value },
        credentials: "same-origin",
      });
      return [response.ok, await response.json()];
    }

    async function flush() {
      const pending = JSON.parse(localStorage.getItem(PENDING) || "[]");
      const left = [];
      for (const entry of pending) {
        try {
          await send(entry);
        } catch (error) {
          left.push(entry);
        }
      }
      localStorage.setItem(PENDING, JSON.stringify(left));
    }

    record.addEventListener("submit", async (event) => {
      event.preventDefault();
      const entry = Object.fromEntries(new FormData(record));
      entry.seen_at = new Date().toISOString();
      localStorage.setItem(SETTINGS, JSON.stringify({ place: entry.place, unit: entry.unit }));
      try {
        const [ok, answer] = await send(entry);
        status.textContent = ok ? answer.message : answer.error;
        status.dataset.ok = ok;
        if (ok) record.hidden = true;
      } catch (error) {
        const pending = JSON.parse(localStorage.getItem(PENDING) || "[]");
        pending.push(entry);
        localStorage.setItem(PENDING, JSON.stringify(pending));
        status.textContent = text.kept;
        status.dataset.ok = "kept";
      }
    });
    window.addEventListener("online", flush);
    if (navigator.onLine) flush();
  }
})();
