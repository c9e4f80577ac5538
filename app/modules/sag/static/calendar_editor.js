// The calendar editor: turns the form's text fields into the calendar API's JSON and saves it.
// The API validates (and explains) everything; the script only refuses text it cannot read.
(function () {
  "use strict";
  const form = document.getElementById("calendarForm");
  if (!form) return;
  const id = form.dataset.calendarId;
  const INTERVAL = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/;
  const DATE = /^(\d{4}-\d{2}-\d{2})\b\s*(.*)$/;

  const field = (name) => form.elements.namedItem(name);
  const pad = (t) => (t.length === 4 ? "0" + t : t);

  function intervals(text, where) {
    const out = [];
    for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
      const m = part.match(INTERVAL);
      if (!m) throw new Error(hub.t("%(where)s: \"%(part)s\" is not an interval like 08:00-12:00", { where, part }));
      out.push({ start: pad(m[1]), end: pad(m[2]) });
    }
    return out;
  }

  function dateLines(text, withHours, where) {
    const out = [];
    text.split("\n").map((l) => l.trim()).filter(Boolean).forEach((line, i) => {
      const m = line.match(DATE);
      if (!m) throw new Error(hub.t("%(where)s, line %(line)s: start with a date like 2026-12-24", { where, line: i + 1 }));
      if (!withHours) { out.push({ date: m[1], note: m[2] }); return; }
      // The intervals run up to the first word that is not one; the rest is the note.
      const words = m[2].split(/\s+/);
      let hours = "", k = 0;
      while (k < words.length && /^[\d:,-]+$/.test(words[k])) { hours += words[k] + " "; k++; }
      const lineWhere = hub.t("%(where)s, line %(line)s", { where, line: i + 1 });
      const parsed = intervals(hours.replace(/\s+/g, "").replace(/,/g, ", "), lineWhere);
      if (!parsed.length) throw new Error(hub.t("%(where)s: give the hours, e.g. 08:00-12:00", { where: lineWhere }));
      out.push({ date: m[1], hours: parsed, note: words.slice(k).join(" ") });
    });
    return out;
  }

  function body() {
    const weekly = {};
    form.querySelectorAll("[data-weekday]").forEach((el) => {
      weekly[el.dataset.weekday] = intervals(el.value, el.closest(".row").querySelector("label").textContent);
    });
    const country = field("country").value.trim().toUpperCase();
    const subdivision = field("subdivision").value.trim();
    const out = {
      name: field("name").value.trim(), timezone: field("timezone").value.trim(), weekly_hours: weekly,
      country: country || null, subdivision: subdivision || null,
      closed_dates: dateLines(document.getElementById("calClosed").value, false, hub.t("Closed dates")),
      special_days: dateLines(document.getElementById("calSpecial").value, true, hub.t("Special hours")),
    };
    if (field("is_default").checked && !field("is_default").disabled) out.is_default = true;
    return out;
  }

  async function explain(res) {
    let detail = "";
    try { detail = hub.detail(await res.json()); } catch (e) { /* not JSON */ }
    hub.alert(typeof detail === "string" && detail ? detail : hub.t("That did not work (HTTP %(status)s).", { status: res.status }));
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let payload;
    try { payload = body(); } catch (e) { hub.alert(e.message); return; }
    const res = id ? await hub.api("PATCH", `/api/v1/sag/calendars/${id}`, payload)
                   : await hub.api("POST", "/api/v1/sag/calendars", payload);
    if (!res.ok) { await explain(res); return; }
    const saved = await res.json();
    location.assign(`/sag/calendars/${saved.id}`);
  });

  document.getElementById("calDelete")?.addEventListener("click", async () => {
    if (!window.confirm(hub.t("Delete this calendar?"))) return;
    const res = await hub.api("DELETE", `/api/v1/sag/calendars/${id}`);
    if (res.ok) location.assign("/sag/calendars"); else await explain(res);
  });

  document.getElementById("calAssign")?.addEventListener("click", async () => {
    const customer = document.getElementById("calCustomerPick").value;
    const res = await hub.api("PUT", `/api/v1/sag/calendars/customers/${customer}`, { calendar_id: Number(id) });
    if (res.ok) location.reload(); else await explain(res);
  });

  document.querySelectorAll("[data-unassign]").forEach((b) => b.addEventListener("click", async () => {
    const res = await hub.api("DELETE", `/api/v1/sag/calendars/customers/${b.dataset.unassign}`);
    if (res.ok) location.reload(); else await explain(res);
  }));
})();
