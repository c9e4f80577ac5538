// BMC Hub: shared browser helpers. Every unsafe request carries the session's CSRF token.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(method, url, body) {
    const opts = { method, headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts);
  }

  // Show a short message as a Bootstrap toast; text only, never HTML.
  function alert(message, variant) {
    const area = document.getElementById("toastArea");
    if (!area || !window.bootstrap) { window.alert(message); return; }
    const el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (variant || "danger");
    el.setAttribute("role", "alert");
    const wrap = document.createElement("div");
    wrap.className = "d-flex";
    const bodyEl = document.createElement("div");
    bodyEl.className = "toast-body";
    bodyEl.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", t("Close"));
    wrap.append(bodyEl, close);
    el.append(wrap);
    area.append(el);
    el.addEventListener("hidden.bs.toast", () => el.remove());
    new bootstrap.Toast(el, { delay: 6000 }).show();
  }

  // Texts of the scripts in the page's language: the page carries the translations of every
  // text a script marks with t("...") (app/core/i18n.py), with "%(name)s" placeholders.
  let messages = null;
  function t(text, vars) {
    if (messages === null) {
      const el = document.getElementById("hubMessages");
      try { messages = el ? JSON.parse(el.textContent) : {}; } catch (e) { messages = {}; }
    }
    let out = messages[text] || text;
    if (vars) out = out.replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return out;
  }

  const lang = () => document.documentElement.lang || "en";

  // An API error's text for people: `message` (the reader's language) when the hub sent one,
  // else `detail` (English, what scripts match on).
  const detail = (body) => (body && (body.message || body.detail)) || "";

  window.hub = { api, alert, csrf, t, lang, detail };
})();
