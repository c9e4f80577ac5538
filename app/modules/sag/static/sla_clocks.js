// BMC Hub: the case page's live SLA clocks (templates/case_sla_clocks.html).
//
// The server sends each clock's state and due instants plus the calendar's open spans up to
// the due times; every second this counts the working time left on those spans (so the count
// stands still while the office is closed), turns ok into warning and breached on time, and
// counts "breached ... ago" in wall-clock time. It asks the server again every minute, when the
// tab becomes visible, and when a notification about this case arrives (hub:notification, sent
// by the core's notifications.js). Text is set with textContent only.
(function () {
  "use strict";
  const root = document.getElementById("slaClocks");
  if (!root) return;
  const BADGE = { ok: "text-bg-light border", warning: "text-bg-warning", breached: "text-bg-danger",
                  met: "text-bg-success", paused: "text-bg-secondary" };
  const TICK_MS = 1000;
  // State names in the page's language (the template's data-labels); the key when one is missing.
  let labels = {};
  try { labels = JSON.parse(root.dataset.labels || "{}"); } catch (e) { labels = {}; }
  const LOCALES = { da: "da-DK", en: "en-GB" };
  let data = null;
  let skew = 0;           // server clock minus browser clock, ms
  let refreshTimer = null;
  const tz = document.getElementById("notificationBell")?.dataset.tz || undefined;

  function span(seconds, withSeconds) {
    const s = Math.max(0, Math.floor(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    let text = d ? hub.t("%(days)s d %(hours)s h", { days: d, hours: h })
      : h ? hub.t("%(hours)s h %(minutes)s m", { hours: h, minutes: m })
      : hub.t("%(minutes)s m", { minutes: m });
    if (withSeconds && !d) text += " " + hub.t("%(seconds)s s", { seconds: String(s % 60).padStart(2, "0") });
    return text;
  }

  function openSecondsBetween(from, to) {
    let total = 0;
    for (const [s, e] of data.spans) {
      const a = Math.max(s, from), b = Math.min(e, to);
      if (b > a) total += (b - a) / 1000;
    }
    return total;
  }

  function load(payload) {
    data = payload;
    skew = Date.parse(payload.now) - Date.now();
    data.spans = payload.spans.map(([s, e]) => [Date.parse(s), Date.parse(e)]);
    for (const c of data.clocks) {
      c.due = Date.parse(c.due_at);
      c.warn = c.warn_at ? Date.parse(c.warn_at) : null;
    }
    root.dataset.version = String(payload.version);
  }

  function text(c, now) {
    switch (c.state) {
      case "ok": case "warning":
        return hub.t("%(time)s working time left", { time: span(openSecondsBetween(now, c.due), true) });
      case "paused": return hub.t("paused, %(time)s working time left", { time: span(c.left_s) });
      case "breached":
        if (c.running) return hub.t("breached %(time)s ago", { time: span((now - c.due) / 1000) });
        return c.kind === "response" ? hub.t("answered late") : hub.t("resolved late");
      default: return c.kind === "response" ? hub.t("answered in time") : hub.t("resolved in time");
    }
  }

  function render() {
    if (!data) return;
    const now = Date.now() + skew;
    for (const c of data.clocks) {
      const li = root.querySelector(`[data-sla-clock="${c.kind}"]`);
      if (!li) continue;
      if (c.running && c.state !== "breached") {
        if (now > c.due) c.state = "breached";
        else if (c.warn !== null && now >= c.warn) c.state = "warning";
      }
      li.dataset.state = c.state;
      const badge = li.querySelector("[data-sla-badge]");
      badge.className = `badge ms-auto ${BADGE[c.state] || ""}`;
      badge.textContent = labels[c.state] || c.state;
      li.querySelector("[data-sla-text]").textContent = text(c, now);
      const due = li.querySelector("[data-sla-due]");
      if (due && due.getAttribute("datetime") !== c.due_at) due.setAttribute("datetime", c.due_at);
      if (due) {
        try {
          due.textContent = new Intl.DateTimeFormat(LOCALES[hub.lang()] || "en-GB",
                                                    { dateStyle: "medium", timeStyle: "short", timeZone: tz })
            .format(new Date(c.due));
        } catch (e) { due.textContent = new Date(c.due).toLocaleString(); }
      }
    }
  }

  async function refresh() {
    try {
      const res = await fetch(root.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!res.ok) return;
      const payload = await res.json();
      load(payload);
      render();
      const updated = root.querySelector("[data-sla-updated]");
      if (updated) updated.textContent = hub.t("live");
    } catch (e) { /* offline: keep counting on what we have, try again at the next refresh */ }
    schedule();
  }

  function schedule() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, (data?.refresh_s || 60) * 1000);
  }

  load(JSON.parse(root.dataset.clocks));
  render();
  setInterval(render, TICK_MS);
  schedule();
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  window.addEventListener("hub:notification", (ev) => {
    if (ev.detail && Number(ev.detail.sag_id) === data.case_id) refresh();
  });
  window.hubSlaClocks = { refresh };
})();
