// BMC Hub: live in-app notifications (reminders) as Bootstrap toasts, and the bell's count.
//
// One EventSource per tab on /api/v1/notifications/stream. The browser reconnects by itself
// and sends Last-Event-ID, so the server replays what this tab missed; ids already handled
// here are skipped, so no toast shows twice. Between tabs of the same browser:
//  - a toast is marked seen by one tab only (Web Locks / localStorage), every tab shows it;
//  - acting on a toast (open, snooze, dismiss) removes it from the other tabs at once
//    (BroadcastChannel, with a localStorage event as fallback) and through the server's
//    "update" event.
// On a page load with several missed reminders waiting, one summary toast stands for them
// ("n unread reminders": Show them / Open list). A grouped reminder (one rule, several cases)
// opens the list of its cases. With desktop notifications switched on in this browser (the
// preferences page, desktop_notifications.js), a reminder arriving while the tab is hidden also
// raises an operating-system notification; the toast is there when the user comes back.
// Every text is inserted with textContent: a case title can never become markup.
(function () {
  "use strict";
  const bell = document.getElementById("notificationBell");
  if (!bell || !window.EventSource) return;

  const MAX_VISIBLE = 3;            // toasts on screen at once; the rest wait behind "and n more"
  const RECONNECT_MAX_MS = 30000;   // back-off cap when the server refuses the stream
  const CLOSED_KEEP_MS = 2 * 24 * 3600 * 1000;  // how long tabs remember acted-on ids
  const CLOSED_KEY = "bmc.notifications.closed";
  const SEEN_KEY = "bmc.notifications.seen";
  const DESKTOP_KEY = "bmc.notifications.desktop";  // "on" when this browser opted in
  const SUMMARY_FROM = 2;           // missed reminders on page load shown as one summary toast from this many
  const GROUP_MESSAGE_MAX_PX = 160;  // a grouped reminder's case list scrolls beyond this height

  const cfg = {
    stream: bell.dataset.stream || "/api/v1/notifications/stream",
    api: bell.dataset.api,                       // the sending module's actions API (from the bell)
    listUrl: bell.getAttribute("href"),
    tz: bell.dataset.tz || undefined,
  };
  const countEl = document.getElementById("notificationCount");
  const PRIORITY = {
    urgent: { header: "text-bg-danger", label: hub.t("Urgent") },
    high: { header: "text-bg-warning", label: hub.t("High") },
    normal: { header: "text-bg-primary", label: "" },
    low: { header: "text-bg-secondary", label: hub.t("Low") },
  };

  const visible = new Map();   // log id -> {el, toast}
  const waiting = [];          // events not on screen yet (burst beyond MAX_VISIBLE)
  const known = new Set();     // ids this page has shown or queued: replays are ignored
  let lastId = null;
  let source = null;
  let retryMs = 1000;

  // --- shared state between tabs -------------------------------------------------------
  function readMap(key) {
    try { return JSON.parse(localStorage.getItem(key) || "{}") || {}; } catch (e) { return {}; }
  }
  function writeMap(key, map) {
    const now = Date.now();
    for (const k of Object.keys(map)) if (now - map[k] > CLOSED_KEEP_MS) delete map[k];
    try { localStorage.setItem(key, JSON.stringify(map)); } catch (e) { /* private mode: tabs sync via the server */ }
  }
  function isClosed(id) { return Object.prototype.hasOwnProperty.call(readMap(CLOSED_KEY), String(id)); }
  function markClosed(id) { const m = readMap(CLOSED_KEY); m[id] = Date.now(); writeMap(CLOSED_KEY, m); }

  const channel = "BroadcastChannel" in window ? new BroadcastChannel("bmc-notifications") : null;
  function tell(msg) {
    if (channel) channel.postMessage(msg);
  }
  function onPeerMessage(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "closed") removeToast(msg.id, false);
    if (msg.type === "count") setCount(msg.unread);
  }
  if (channel) channel.onmessage = (ev) => onPeerMessage(ev.data);
  window.addEventListener("storage", (ev) => {
    // Fallback for browsers without BroadcastChannel: the closed-ids map changed in another tab.
    if (ev.key !== CLOSED_KEY || channel) return;
    const m = readMap(CLOSED_KEY);
    for (const id of Array.from(visible.keys())) if (m[id]) removeToast(id, false);
  });

  // Mark a shown notification seen once for all tabs: the first tab to take the id wins.
  function markSeenOnce(data) {
    if (data.seen_at || !cfg.api) return;
    const claim = () => {
      const seen = readMap(SEEN_KEY);
      if (seen[data.id]) return Promise.resolve();
      seen[data.id] = Date.now();
      writeMap(SEEN_KEY, seen);
      const forget = () => { const m = readMap(SEEN_KEY); delete m[data.id]; writeMap(SEEN_KEY, m); };
      // Not recorded (network, server): let the next showing try again.
      return hub.api("POST", `${cfg.api}/${data.id}/seen`).then((res) => { if (!res.ok) forget(); }, forget);
    };
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request(`bmc-seen-${data.id}`, claim).catch(claim);
    } else {
      claim();
    }
  }

  // --- the bell -----------------------------------------------------------------------
  function setCount(n) {
    if (typeof n !== "number" || !countEl) return;
    countEl.textContent = n > 99 ? "99+" : String(n);
    countEl.classList.toggle("d-none", n <= 0);
    bell.setAttribute("aria-label", hub.t("Reminders, %(n)s unread", { n }));
    bell.dataset.unread = String(n);
  }

  // --- toasts -------------------------------------------------------------------------
  function area() {
    let el = document.getElementById("reminderToasts");
    if (!el) {
      el = document.createElement("div");
      el.id = "reminderToasts";
      // Bottom left: tables keep their actions in the right-hand column, which a stack on the
      // right covered on laptop screens (1366 px). Narrower than Bootstrap's 350 px, and the
      // stack scrolls rather than growing over the page.
      el.className = "toast-container position-fixed bottom-0 start-0 p-3 reminder-toasts";
      el.style.zIndex = "1090";
      el.setAttribute("aria-live", "polite");
      document.body.append(el);
    }
    return el;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const opts = { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz };
    const today = new Date().toDateString() === d.toDateString();
    if (!today) { opts.day = "numeric"; opts.month = "short"; }
    try { return new Intl.DateTimeFormat(hub.lang() === "da" ? "da-DK" : "en-GB", opts).format(d); } catch (e) { return d.toLocaleString(); }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function button(label, cls, action) {
    const b = el("button", "btn btn-sm " + cls, label);
    b.type = "button";
    b.dataset.action = action;
    return b;
  }

  function caseLine(data) {
    const number = data.case_number || "";
    const title = data.case_title || "";
    return [number, title].filter(Boolean).join(" · ");
  }

  function buildToast(data) {
    const p = PRIORITY[data.priority] || PRIORITY.normal;
    const t = el("div", "toast reminder-toast border-0 shadow");
    t.setAttribute("role", "alert");
    t.setAttribute("aria-live", "assertive");
    t.setAttribute("aria-atomic", "true");
    t.dataset.logId = String(data.id);
    t.dataset.priority = data.priority || "normal";
    if (data.group_size) t.dataset.groupSize = String(data.group_size);

    const header = el("div", "toast-header " + p.header);
    const title = el("strong", "me-auto reminder-title", data.title || hub.t("Reminder"));
    header.append(title);
    if (p.label) header.append(el("span", "badge text-bg-light me-2", p.label));
    const time = el("small", "reminder-time", fmtTime(data.created_at));
    if (data.created_at) time.title = new Date(data.created_at).toLocaleString(hub.lang() === "da" ? "da-DK" : "en-GB");
    header.append(time);
    const close = el("button", "btn-close ms-2" + (p.header.includes("warning") ? "" : " btn-close-white"));
    close.type = "button";
    close.setAttribute("aria-label", hub.t("Close (dismiss)"));
    close.dataset.action = "dismiss";
    header.append(close);

    const body = el("div", "toast-body bg-body");
    const c = caseLine(data);
    if (c) body.append(el("div", "small fw-semibold text-body-secondary reminder-case", c));
    if (data.message) {
      const msg = el("div", "reminder-message mt-1", data.message);
      msg.style.whiteSpace = "pre-line";
      if (data.group_size) { msg.style.maxHeight = `${GROUP_MESSAGE_MAX_PX}px`; msg.style.overflowY = "auto"; }
      body.append(msg);
    }
    const actions = el("div", "d-flex flex-wrap gap-1 mt-2 pt-2 border-top");
    if (data.url) actions.append(button(data.group_size ? hub.t("Open list") : hub.t("Open"), "btn-primary", "open"));
    // A feed may say an item cannot be snoozed (sag: mentions, watched-case news, summaries).
    if (data.snoozable !== false) {
      actions.append(button(hub.t("Snooze 1 h"), "btn-outline-secondary", "snooze-1h"));
      actions.append(button(hub.t("Tomorrow 08:00"), "btn-outline-secondary", "snooze-tomorrow"));
    }
    actions.append(button(hub.t("Dismiss"), "btn-outline-danger ms-auto", "dismiss"));
    body.append(actions);
    t.append(header, body);
    t.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-action]");
      if (b) act(data, b.dataset.action, b);
    });
    return t;
  }

  function renderMore() {
    let more = document.getElementById("reminderMore");
    if (waiting.length === 0) { if (more) more.remove(); return; }
    if (!more) {
      more = el("div", "toast show border-0 shadow-sm");
      more.id = "reminderMore";
      more.setAttribute("role", "status");
      const body = el("div", "toast-body d-flex align-items-center gap-2");
      body.append(el("span", "me-auto reminder-more-text"));
      const link = el("a", "btn btn-sm btn-outline-primary", hub.t("Show all"));
      link.href = cfg.listUrl;
      body.append(link);
      more.append(body);
    }
    area().append(more);  // keep it last
    more.querySelector(".reminder-more-text").textContent =
      waiting.length === 1 ? hub.t("and 1 more reminder") : hub.t("and %(n)s more reminders", { n: waiting.length });
  }

  function show(data) {
    const t = buildToast(data);
    area().append(t);
    const toast = new bootstrap.Toast(t, { autohide: false });
    visible.set(String(data.id), { el: t, toast });
    t.addEventListener("hidden.bs.toast", () => {
      t.remove();
      visible.delete(String(data.id));
      promote();
    });
    toast.show();
    markSeenOnce(data);
    renderMore();
  }

  function promote() {
    while (visible.size < MAX_VISIBLE && waiting.length) {
      const next = waiting.shift();
      if (!isClosed(next.id)) show(next);
    }
    renderMore();
  }

  function isDone(data) {
    if (data.dismissed_at || data.clicked_at || data.acknowledged_at) return true;
    if (data.snoozed_until && new Date(data.snoozed_until) > new Date()) return true;
    return data.status && data.status !== "sent";
  }

  function receive(data) {
    const id = String(data.id);
    if (known.has(id) || isClosed(id) || isDone(data)) return;
    known.add(id);
    if (visible.size < MAX_VISIBLE) show(data); else { waiting.push(data); renderMore(); }
  }

  // --- missed reminders on page load: one summary ------------------------------------
  function showSummary(items) {
    for (const d of items) known.add(String(d.id));
    const t = el("div", "toast reminder-summary border-0 shadow");
    t.id = "reminderSummary";
    t.setAttribute("role", "status");
    t.dataset.count = String(items.length);
    const body = el("div", "toast-body bg-body");
    body.append(el("div", "fw-semibold reminder-summary-text",
      hub.t("%(n)s unread reminders while you were away", { n: items.length })));
    const actions = el("div", "d-flex flex-wrap gap-1 mt-2 pt-2 border-top");
    const open = el("a", "btn btn-sm btn-primary", hub.t("Open list"));
    open.href = `${cfg.listUrl}?filter=unread`;
    const expand = button(hub.t("Show them here"), "btn-outline-secondary", "expand");
    const close = button(hub.t("Later"), "btn-outline-secondary ms-auto", "later");
    actions.append(open, expand, close);
    body.append(actions);
    t.append(body);
    area().prepend(t);
    const toast = new bootstrap.Toast(t, { autohide: false });
    t.addEventListener("hidden.bs.toast", () => t.remove());
    expand.addEventListener("click", () => {
      toast.hide();
      for (const d of items) { known.delete(String(d.id)); receive(d); }
    });
    close.addEventListener("click", () => toast.hide());
    toast.show();
  }

  const pending = [];    // reminders replayed before the first "hello": the backlog of this page load
  let loaded = false;
  function flushBacklog() {
    loaded = true;
    const open = pending.splice(0).filter((d) => !isClosed(d.id) && !isDone(d) && !known.has(String(d.id)));
    if (open.length >= SUMMARY_FROM) showSummary(open); else open.forEach(receive);
  }

  // --- desktop notifications (opt-in per browser) -----------------------------------------
  function desktopOn() {
    try {
      return "Notification" in window && Notification.permission === "granted"
        && localStorage.getItem(DESKTOP_KEY) === "on";
    } catch (e) { return false; }
  }
  function notifyDesktop(data) {
    if (!document.hidden || !desktopOn()) return;
    const c = caseLine(data);
    const n = new Notification(data.title || hub.t("Reminder"), {
      body: [c, data.message || ""].filter(Boolean).join("\n").slice(0, 300),
      tag: `bmc-reminder-${data.id}`,  // several hidden tabs raise it once
    });
    n.onclick = () => {
      window.focus();
      n.close();
      act(data, "open");
    };
  }

  function removeToast(id, announce) {
    id = String(id);
    markClosed(id);
    known.add(id);
    const i = waiting.findIndex((w) => String(w.id) === id);
    if (i >= 0) waiting.splice(i, 1);
    const v = visible.get(id);
    if (v) v.toast.hide(); else renderMore();
    if (announce) tell({ type: "closed", id });
  }

  async function act(data, action, btn) {
    if (!cfg.api) return;
    const base = `${cfg.api}/${data.id}`;
    let res;
    if (btn) btn.disabled = true;
    try {
      if (action === "open") res = await hub.api("POST", `${base}/clicked`);
      else if (action === "dismiss") res = await hub.api("POST", `${base}/dismiss`);
      else if (action === "snooze-1h") res = await hub.api("POST", `${base}/snooze`, { preset: "1h" });
      else if (action === "snooze-tomorrow") res = await hub.api("POST", `${base}/snooze`, { preset: "tomorrow_08" });
      else return;
    } catch (e) {
      if (btn) btn.disabled = false;
      hub.alert(hub.t("The hub could not be reached; try again."));
      return;
    }
    if (!res.ok) {
      if (btn) btn.disabled = false;
      let detail = "";
      try { detail = hub.detail(await res.json()); } catch (e) { /* not JSON */ }
      hub.alert(typeof detail === "string" && detail ? detail : hub.t("That did not work (HTTP %(status)s).", { status: res.status }));
      return;
    }
    removeToast(data.id, true);
    if (action === "open" && data.url) { window.location.assign(data.url); return; }
    if (action.startsWith("snooze")) {
      let until = "";
      try { until = fmtTime((await res.json()).snoozed_until); } catch (e) { /* body optional */ }
      hub.alert(until ? hub.t("Snoozed until %(time)s.", { time: until }) : hub.t("Snoozed."), "success");
    }
  }

  function update(data) {
    if (typeof data.unread === "number") { setCount(data.unread); tell({ type: "count", unread: data.unread }); }
    if (data.id !== undefined && isDone(data)) removeToast(data.id, false);
  }

  // --- the stream ---------------------------------------------------------------------
  function parse(ev) {
    try { return JSON.parse(ev.data); } catch (e) { return null; }
  }

  function connect() {
    const url = lastId ? `${cfg.stream}?after=${encodeURIComponent(lastId)}` : cfg.stream;
    source = new EventSource(url, { withCredentials: true });
    source.addEventListener("open", () => { retryMs = 1000; bell.dataset.live = "1"; });
    source.addEventListener("hello", (ev) => {
      const d = parse(ev);
      if (d) setCount(d.unread);
      if (!loaded) flushBacklog();
    });
    source.addEventListener("reminder", (ev) => {
      if (ev.lastEventId) lastId = ev.lastEventId;
      const d = parse(ev);
      if (d) {
        // Pages that show what the notification is about (the case page's SLA clocks) refresh on it.
        window.dispatchEvent(new CustomEvent("hub:notification", { detail: d }));
        if (typeof d.unread === "number") setCount(d.unread);
        if (d.replayed && !loaded) { pending.push(d); return; }
        if (!d.replayed) notifyDesktop(d);
        receive(d);
      }
    });
    source.addEventListener("update", (ev) => { const d = parse(ev); if (d) update(d); });
    source.addEventListener("error", () => {
      bell.dataset.live = "0";
      // The browser retries a dropped stream by itself (with Last-Event-ID). When the server
      // refused it (signed out, 5xx), it gives up: then retry here, with back-off.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
      }
    });
  }

  window.addEventListener("pagehide", () => { if (source) source.close(); });
  window.addEventListener("pageshow", (ev) => { if (ev.persisted) connect(); });
  window.hubNotifications = { setCount, receive, remove: (id) => removeToast(id, true), visibleIds: () => Array.from(visible.keys()), desktopOn };
  connect();
})();
