// BMC Hub: the reminder rule editor (a case's rules on the case page, global rules for admins)
// and a case's reminder history. Talks to the sag reminder API; every text goes in as text.
(function () {
  "use strict";
  const API = "/api/v1/sag/reminders";
  const UNIT_MINUTES = { minutes: 1, hours: 60, days: 1440 };
  const t = (text, vars) => hub.t(text, vars);
  const LOCALES = { da: "da-DK", en: "en-GB" };
  const PRIORITIES = { low: t("low"), normal: t("normal"), high: t("high"), urgent: t("urgent") };
  const HISTORY_STATUSES = { sent: t("sent"), pending: t("pending"), failed: t("failed"), rate_limited: t("held back"),
    suppressed: t("suppressed"), deferred: t("deferred") };
  const OUTCOMES = { deferred: t("after quiet hours"), held: t("held back"), rate_limited: t("held back"),
    suppressed: t("off in preferences"), off: t("off in preferences") };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmt(iso, tz) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return "";
    try {
      return new Intl.DateTimeFormat(LOCALES[hub.lang()] || "en-GB", { timeZone: tz, year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(d);
    } catch (e) { return d.toLocaleString(); }
  }

  // "2026-05-01T08:00" read as wall time in zone tz -> ISO instant with offset.
  function zonedToIso(local, tz) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
    if (!m) return local;
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    const offsetAt = (t) => {
      const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(t));
      const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
      return Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second) - t;
    };
    let t = wall - offsetAt(wall);
    t = wall - offsetAt(t);
    return new Date(t).toISOString();
  }

  // An ISO instant -> "YYYY-MM-DDTHH:MM" wall time in tz (for datetime-local inputs).
  function isoToZoned(iso, tz) {
    if (!iso) return "";
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(iso));
    const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
    return `${v.year}-${v.month}-${v.day}T${v.hour}:${v.minute}`;
  }

  async function json(res) {
    try { return await res.json(); } catch (e) { return {}; }
  }

  function calendarNote(c) {
    if (!c.calendar) return "";
    return c.calendar === "default" ? " " + t("(default calendar)") : " " + t("(calendar %(name)s)", { name: c.calendar });
  }

  function triggerSummary(rule, ctx) {
    const c = rule.trigger_config || {};
    const label = (k) => (k === "any" || !k ? t("any status") : (ctx.statusLabels[k] || k));
    const span = (n, unit, working) => {
      const texts = working
        ? { days: t("%(n)s working day(s)", { n }), hours: t("%(n)s working hour(s)", { n }), minutes: t("%(n)s working minute(s)", { n }) }
        : { days: t("%(n)s day(s)", { n }), hours: t("%(n)s hour(s)", { n }), minutes: t("%(n)s minute(s)", { n }) };
      return texts[unit];
    };
    switch (rule.trigger_type) {
      case "status_change": return t("Status change: %(from)s → %(to)s", { from: label(c.from), to: label(c.to) });
      case "deadline": {
        const m = c.offset_minutes || 0;
        const w = !!c.calendar;
        const text = c.offset_days ? span(c.offset_days, "days", w)
          : m % 1440 === 0 && m && !w ? span(m / 1440, "days", false) : m % 60 === 0 && m ? span(m / 60, "hours", w) : span(m, "minutes", w);
        return m || c.offset_days ? t("%(span)s before the deadline", { span: text }) + calendarNote(c) : t("At the deadline");
      }
      case "sla": return t("%(shares)s %% of the %(target)s target (SLA, working time)", {
        shares: (c.thresholds || []).join(" %, "), target: c.target === "response" ? t("first response") : t("resolution") }).replace("%%", "%");
      case "scheduled": return t("At %(when)s", { when: fmt(c.at, ctx.tz) });
      case "recurring": return t("Cron “%(cron)s” (%(zone)s)", { cron: c.cron, zone: c.timezone })
        + (c.until ? ", " + t("until %(when)s", { when: fmt(c.until, ctx.tz) }) : "");
      case "inactivity": return t("No update for %(span)s", { span: span(c.days || c.hours, c.days ? "days" : "hours", !!c.calendar) }) + calendarNote(c);
      default: return rule.trigger_type;
    }
  }

  function recipientSummary(r, ctx) {
    const parts = [];
    // Global rules come without recipients for non-admins (the API keeps them private).
    if (!r.recipients) return t("set by an administrator");
    const rc = r.recipients;
    if (rc.assignee) parts.push(t("assignee"));
    if (rc.creator) parts.push(t("creator"));
    if (rc.watchers) parts.push(t("watchers"));
    (rc.users || []).forEach((id) => parts.push(ctx.userNames[id] || t("user %(id)s", { id })));
    (rc.roles || []).forEach((role) => parts.push(role === "admin" ? t("all admins") : role === "user" ? t("all users") : role));
    (rc.emails || []).forEach((e) => parts.push(e));
    return parts.join(", ") || t("nobody");
  }

  // The next time the rule fires, as far as the page can tell.
  function nextRun(rule, ctx) {
    if (!rule.active) return t("inactive");
    if (rule.next_run_at) return fmt(rule.next_run_at, ctx.tz);
    if (rule.trigger_type === "sla") return t("per case, from its SLA clock");
    if (rule.trigger_type === "deadline") {
      if (!ctx.caseId) return t("per case, before its deadline");
      if (rule.trigger_config.calendar) return t("before the deadline, in working time");
      if (!ctx.deadline) return t("when the case gets a deadline");
      const at = new Date(new Date(ctx.deadline).getTime() - (rule.trigger_config.offset_minutes || 0) * 60000);
      return fmt(at < new Date() ? new Date() : at, ctx.tz);
    }
    if (rule.trigger_type === "status_change") return t("on the next matching status change");
    return "—";
  }

  class Editor {
    constructor(root) {
      this.root = root;
      this.caseId = root.dataset.caseId ? Number(root.dataset.caseId) : null;
      this.deadline = root.dataset.caseDeadline || null;
      this.form = root.querySelector("[data-rule-form]");
      this.list = root.querySelector("[data-rules]");
      this.preview = root.querySelector("[data-preview]");
      this.history = root.querySelector("[data-history]");
      this.editing = null;
      this.rules = [];
    }

    async start() {
      const res = await fetch("/sag/reminders/editor.json", { headers: { Accept: "application/json" } });
      const data = await json(res);
      this.tz = this.root.dataset.tz || data.timezone || undefined;
      this.ctx = {
        tz: this.tz, caseId: this.caseId, deadline: this.deadline,
        statusLabels: Object.fromEntries((data.statuses || []).map((s) => [s.key, (hub.lang() === "da" && s.label_da) || s.label])),
        userNames: Object.fromEntries((data.users || []).map((u) => [u.id, u.name])),
        channelNames: Object.assign({ in_app: t("in-app"), email: t("e-mail") },
          Object.fromEntries((data.destinations || []).map((d) => [d.channel, d.name]))),
      };
      this.canEditGlobal = !!data.is_admin;
      // Role and external recipients and escalation to a role are for administrators only.
      this.root.querySelectorAll("[data-admin-only]").forEach((n) => { n.hidden = !this.canEditGlobal; });
      this.userId = data.user_id;
      this.fillChoices(data);
      this.bind();
      await this.loadRules();
      if (this.history) await this.loadHistory();
      this.root.dataset.ready = "1";
    }

    fillChoices(data) {
      const f = this.form;
      for (const name of ["from", "to"]) {
        const sel = f.querySelector(`[name="cfg_${name}"]`);
        sel.replaceChildren(new Option(t("any status"), "any"));
        (data.statuses || []).forEach((s) => sel.append(new Option((hub.lang() === "da" && s.label_da) || s.label, s.key)));
      }
      const users = f.querySelector('[name="users"]');
      users.replaceChildren();
      (data.users || []).forEach((u) => users.append(new Option(`${u.name} (${u.username})`, String(u.id))));
      f.querySelector('[name="cfg_timezone"]').value = this.tz || "";
      // Calendars by name: working-time offsets and the opening-hours option name one.
      f.querySelectorAll("[data-calendar-choice]").forEach((sel) => {
        const opening = sel.name === "opening_hours_calendar";
        (data.calendars || []).forEach((c) => {
          if (opening || !c.is_default) sel.append(new Option(opening ? c.name : t("working time (%(name)s)", { name: c.name }), c.name));
        });
      });
      // Chat and webhook destinations (one message per firing) after the built-in channels.
      const last = f.querySelector('[data-error="channels"]');
      (data.destinations || []).forEach((d, i) => {
        const id = `chDest${i}_${Math.random().toString(36).slice(2, 8)}`;
        const wrap = el("div", "form-check form-check-inline");
        const box = el("input", "form-check-input");
        Object.assign(box, { type: "checkbox", name: "channels", value: d.channel, id });
        const label = el("label", "form-check-label small", d.name);
        label.htmlFor = id;
        label.title = t("%(channel)s: one message per firing", { channel: d.channel });
        wrap.append(box, label);
        last.before(wrap);
      });
    }

    channelName(c) {
      return (this.ctx.channelNames || {})[c] || c;
    }

    bind() {
      const f = this.form;
      f.querySelector('[name="trigger_type"]').addEventListener("change", () => this.adapt());
      f.addEventListener("submit", (ev) => { ev.preventDefault(); this.save(); });
      f.querySelector("[data-preview-button]").addEventListener("click", () => this.runPreview());
      f.querySelector("[data-cancel]").addEventListener("click", () => this.close());
      this.root.querySelector("[data-add-rule]")?.addEventListener("click", () => this.open(null));
      this.list.addEventListener("click", (ev) => {
        const b = ev.target.closest("[data-rule-action]");
        if (!b) return;
        const rule = this.rules.find((r) => String(r.id) === b.dataset.ruleId);
        if (rule) this.ruleAction(rule, b.dataset.ruleAction, b);
      });
      this.adapt();
    }

    adapt() {
      const type = this.form.querySelector('[name="trigger_type"]').value;
      this.form.querySelectorAll("[data-trigger]").forEach((fs) => {
        const on = fs.dataset.trigger === type;
        fs.classList.toggle("d-none", !on);
        fs.disabled = !on;
      });
    }

    rulesUrl() {
      // A case's own rules plus the global rules that apply to it; or the global rules alone.
      return this.caseId ? `/api/v1/sag/cases/${this.caseId}/reminders/rules?include_global=true&limit=200`
        : `${API}/rules?scope=global&limit=200`;
    }

    async loadRules() {
      const res = await fetch(this.rulesUrl(), { headers: { Accept: "application/json" } });
      const body = await json(res);
      if (!res.ok) { this.list.replaceChildren(el("div", "text-danger small", body.message || body.detail || t("Could not load the rules."))); return; }
      const rows = (body.items || []).concat(body.global_rules || []);
      this.rules = this.caseId ? rows : rows.filter((r) => r.sag_id === null || r.sag_id === undefined);
      this.renderRules();
    }

    renderRules() {
      const own = this.rules.filter((r) => (this.caseId ? r.sag_id === this.caseId : true));
      const inherited = this.caseId ? this.rules.filter((r) => r.sag_id !== this.caseId) : [];
      const wrap = el("div");
      if (!own.length) wrap.append(el("p", "text-body-secondary small mb-2", this.caseId ? t("No reminder rules for this case yet.") : t("No global rules yet.")));
      if (own.length) wrap.append(this.table(own, true));
      if (inherited.length) {
        wrap.append(el("div", "small text-body-secondary mt-3 mb-1", t("Global rules that also apply to this case:")));
        wrap.append(this.table(inherited, this.canEditGlobal));
      }
      this.list.replaceChildren(wrap);
    }

    table(rules, editable) {
      const tbl = el("table", "table table-sm align-middle mb-0 reminder-rules");
      const head = el("thead");
      const hr = el("tr");
      [t("Rule"), t("When"), t("To"), t("Next run"), ""].forEach((h) => hr.append(el("th", null, h)));
      head.append(hr);
      const body = el("tbody");
      for (const r of rules) {
        const tr = el("tr");
        tr.dataset.ruleId = String(r.id);
        if (!r.active) tr.classList.add("text-body-secondary");
        const name = el("td");
        name.append(el("div", "fw-semibold rule-name", r.name));
        const badges = el("div", "small");
        badges.append(el("span", "badge text-bg-light border me-1", (r.channels || []).map((c) => this.channelName(c)).join(" + ")));
        badges.append(el("span", "badge text-bg-light border me-1", PRIORITIES[r.priority] || r.priority));
        if (!r.active) badges.append(el("span", "badge text-bg-secondary", t("inactive")));
        name.append(badges);
        tr.append(name, el("td", "small", triggerSummary(r, this.ctx)), el("td", "small", recipientSummary(r, this.ctx)));
        tr.append(el("td", "small next-run", nextRun(r, this.ctx)));
        const actions = el("td", "text-end text-nowrap");
        // Admins edit every rule; others the case rules they created (as the API enforces).
        if (editable && (this.canEditGlobal || (r.sag_id && r.created_by === this.userId))) {
          const mk = (label, action, cls) => {
            const b = el("button", `btn btn-sm ${cls} ms-1`, label);
            b.type = "button";
            b.dataset.ruleAction = action;
            b.dataset.ruleId = String(r.id);
            return b;
          };
          actions.append(mk(t("Edit"), "edit", "btn-outline-primary"));
          actions.append(mk(r.active ? t("Deactivate") : t("Activate"), r.active ? "deactivate" : "activate", "btn-outline-secondary"));
          actions.append(mk(t("Delete"), "delete", "btn-outline-danger"));
        }
        tr.append(actions);
        body.append(tr);
      }
      tbl.append(head, body);
      const wrap = el("div", "table-responsive");
      wrap.append(tbl);
      return wrap;
    }

    async ruleAction(rule, action, btn) {
      if (action === "edit") { this.open(rule); return; }
      if (action === "delete" && !window.confirm(t("Delete the rule “%(name)s”? Its pending reminders are cancelled.", { name: rule.name }))) return;
      btn.disabled = true;
      let res;
      if (action === "delete") res = await hub.api("DELETE", `${API}/rules/${rule.id}`);
      else res = await hub.api("PATCH", `${API}/rules/${rule.id}`, { active: action === "activate" });
      btn.disabled = false;
      if (!res.ok) { hub.alert(hub.detail(await json(res)) || t("That did not work (HTTP %(status)s).", { status: res.status })); return; }
      await this.loadRules();
    }

    open(rule) {
      this.editing = rule;
      const f = this.form;
      f.reset();
      this.clearErrors();
      this.preview.replaceChildren();
      f.querySelector("[data-form-title]").textContent = rule ? `Edit “${rule.name}”` : "New reminder rule";
      f.querySelector('[name="cfg_timezone"]').value = this.tz || "";
      if (rule) {
        const c = rule.trigger_config || {};
        f.elements.name.value = rule.name;
        f.elements.trigger_type.value = rule.trigger_type;
        f.elements.cfg_from.value = c.from || "any";
        f.elements.cfg_to.value = c.to || "any";
        if (rule.trigger_type === "deadline") {
          const m = c.offset_minutes || 0;
          const unit = c.offset_days ? "days" : m && m % 1440 === 0 && !c.calendar ? "days" : m && m % 60 === 0 ? "hours" : "minutes";
          f.elements.cfg_offset.value = String(c.offset_days || m / UNIT_MINUTES[unit]);
          f.elements.cfg_offset_unit.value = unit;
          f.elements.cfg_calendar.value = c.calendar || "";
        }
        if (rule.trigger_type === "inactivity") {
          f.elements.cfg_quiet_unit.value = c.hours ? "hours" : "days";
          f.elements.cfg_quiet_calendar.value = c.calendar || "";
        }
        if (c.hours) f.elements.cfg_days.value = String(c.hours);
        if (rule.trigger_type === "sla") {
          f.elements.cfg_target.value = c.target || "resolution";
          f.elements.cfg_thresholds.value = (c.thresholds || []).join(", ");
        }
        f.elements.deliver_in_opening_hours.checked = !!rule.deliver_in_opening_hours;
        f.elements.opening_hours_calendar.value = rule.opening_hours_calendar || "";
        if (c.at) f.elements.cfg_at.value = isoToZoned(c.at, this.tz);
        if (c.cron) f.elements.cfg_cron.value = c.cron;
        if (c.timezone) f.elements.cfg_timezone.value = c.timezone;
        if (c.until) f.elements.cfg_until.value = isoToZoned(c.until, c.timezone || this.tz);
        if (c.days) f.elements.cfg_days.value = String(c.days);
        const rc = rule.recipients || {};
        f.elements.rcp_assignee.checked = !!rc.assignee;
        f.elements.rcp_creator.checked = !!rc.creator;
        f.elements.rcp_watchers.checked = !!rc.watchers;
        Array.from(f.elements.users.options).forEach((o) => { o.selected = (rc.users || []).map(String).includes(o.value); });
        f.querySelectorAll('[name="roles"]').forEach((b) => { b.checked = (rc.roles || []).includes(b.value); });
        f.elements.emails.value = (rc.emails || []).join("\n");
        f.querySelectorAll('[name="channels"]').forEach((b) => { b.checked = (rule.channels || []).includes(b.value); });
        f.elements.title_template.value = rule.title_template || "";
        f.elements.message_template.value = rule.message_template || "";
        f.elements.priority.value = rule.priority || "normal";
        f.elements.repeat_every_hours.value = rule.repeat_every_hours || "";
        f.elements.escalate_after.value = rule.escalate_after || "";
        f.elements.escalate_role.value = rule.escalate_role || "";
      }
      this.adapt();
      f.classList.remove("d-none");
      f.elements.name.focus();
    }

    close() {
      this.form.classList.add("d-none");
      this.preview.replaceChildren();
      this.editing = null;
    }

    body() {
      const f = this.form.elements;
      const type = f.trigger_type.value;
      let cfg = {};
      const num = (v) => (v === "" ? null : Number(v));
      if (type === "status_change") cfg = { from: f.cfg_from.value, to: f.cfg_to.value };
      if (type === "deadline") {
        const n = num(f.cfg_offset.value);
        const raw = n === null || isNaN(n);
        // Working days are days of the calendar, not 1440 minutes; clock-time days are.
        if (f.cfg_calendar.value && f.cfg_offset_unit.value === "days") cfg = { offset_days: raw ? f.cfg_offset.value : n };
        else cfg = { offset_minutes: raw ? f.cfg_offset.value : Math.round(n * UNIT_MINUTES[f.cfg_offset_unit.value]) };
        if (f.cfg_calendar.value) cfg.calendar = f.cfg_calendar.value;
      }
      if (type === "sla") {
        const parts = f.cfg_thresholds.value.split(/[\s,;%]+/).filter(Boolean);
        cfg = { target: f.cfg_target.value, thresholds: parts.map((p) => (isNaN(Number(p)) ? p : Number(p))) };
      }
      if (type === "scheduled") cfg = { at: f.cfg_at.value ? zonedToIso(f.cfg_at.value, this.tz) : "" };
      if (type === "recurring") {
        cfg = { cron: f.cfg_cron.value.trim(), timezone: f.cfg_timezone.value.trim() || this.tz };
        if (f.cfg_until.value) cfg.until = zonedToIso(f.cfg_until.value, cfg.timezone);
      }
      if (type === "inactivity") {
        const d = num(f.cfg_days.value);
        cfg = { [f.cfg_quiet_unit.value]: d === null || isNaN(d) ? f.cfg_days.value : d };
        if (f.cfg_quiet_calendar.value) cfg.calendar = f.cfg_quiet_calendar.value;
      }
      const emails = f.emails.value.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
      const body = {
        name: f.name.value.trim(),
        trigger_type: type,
        trigger_config: cfg,
        recipients: {
          assignee: f.rcp_assignee.checked, creator: f.rcp_creator.checked, watchers: f.rcp_watchers.checked,
          users: Array.from(f.users.selectedOptions).map((o) => Number(o.value)),
          roles: this.canEditGlobal ? Array.from(this.form.querySelectorAll('[name="roles"]:checked')).map((b) => b.value) : [],
          emails: this.canEditGlobal ? emails : [],
        },
        channels: Array.from(this.form.querySelectorAll('[name="channels"]:checked')).map((b) => b.value),
        title_template: f.title_template.value,
        message_template: f.message_template.value,
        priority: f.priority.value,
        repeat_every_hours: num(f.repeat_every_hours.value),
        escalate_after: this.canEditGlobal ? num(f.escalate_after.value) : null,
        escalate_role: this.canEditGlobal ? f.escalate_role.value || null : null,
        deliver_in_opening_hours: f.deliver_in_opening_hours.checked,
        opening_hours_calendar: f.deliver_in_opening_hours.checked ? f.opening_hours_calendar.value || null : null,
      };
      if (!this.editing) body.sag_id = this.caseId;
      return body;
    }

    clearErrors() {
      this.form.querySelectorAll(".is-invalid").forEach((e) => e.classList.remove("is-invalid"));
      this.form.querySelectorAll("[data-error]").forEach((e) => { e.textContent = ""; e.classList.add("d-none"); });
    }

    showErrors(body, status) {
      this.clearErrors();
      const list = Array.isArray(body.errors) && body.errors.length ? body.errors
        : [{ field: body.field || "", message: body.message || body.detail || t("Not saved (HTTP %(status)s).", { status }) }];
      for (const e of list) {
        // A new rule has one shape per trigger type, and the API names the shape first
        // ("recurring.trigger_config.cron"); the form has one slot per field.
        const field = String(e.field || "").replace(/^body\./, "")
          .replace(/^(status_change|scheduled|deadline|recurring|inactivity|sla)\./, "");
        let slot = this.form.querySelector(`[data-error="${CSS.escape(field)}"]`);
        let prefix = field;
        while (!slot && prefix.includes(".")) {
          prefix = prefix.slice(0, prefix.lastIndexOf("."));
          slot = this.form.querySelector(`[data-error="${CSS.escape(prefix)}"]`);
        }
        slot = slot || this.form.querySelector('[data-error="__all__"]');
        const input = this.form.querySelector(`[data-field="${CSS.escape(prefix)}"]`);
        if (input) input.classList.add("is-invalid");
        slot.textContent = slot.textContent ? `${slot.textContent} ${e.message}` : String(e.message);
        slot.classList.remove("d-none");
      }
    }

    async save() {
      const btn = this.form.querySelector('[type="submit"]');
      btn.disabled = true;
      const body = this.body();
      const res = this.editing
        ? await hub.api("PATCH", `${API}/rules/${this.editing.id}`, body)
        : await hub.api("POST", `${API}/rules`, body);
      btn.disabled = false;
      const out = await json(res);
      if (!res.ok) { this.showErrors(out, res.status); return; }
      this.close();
      hub.alert(this.editing ? t("Rule saved.") : t("Rule created."), "success");
      await this.loadRules();
    }

    async runPreview() {
      const btn = this.form.querySelector("[data-preview-button]");
      btn.disabled = true;
      const body = this.body();
      if (this.editing) body.sag_id = this.editing.sag_id ?? null;
      const res = await hub.api("POST", `${API}/preview`, body);
      btn.disabled = false;
      const out = await json(res);
      if (!res.ok) { this.showErrors(out, res.status); this.preview.replaceChildren(); return; }
      this.clearErrors();
      this.renderPreview(out);
    }

    renderPreview(out) {
      const items = out.firings || [];
      const wrap = el("div", "border rounded p-2 bg-body-tertiary reminder-preview");
      wrap.append(el("div", "fw-semibold small mb-1", t("Preview: what this rule would do in the next 7 days")));
      if (out.next_run_at) wrap.append(el("div", "small mb-1 preview-next-run", t("Next run: %(when)s", { when: fmt(out.next_run_at, this.tz) })));
      if (!items.length) {
        wrap.append(el("div", "small text-body-secondary", t("Nothing would fire in the next 7 days.")));
      } else {
        const tbl = el("table", "table table-sm mb-0 small");
        const hr = el("tr");
        [t("When"), t("Case"), t("Title"), t("Recipient"), t("Channels")].forEach((h) => hr.append(el("th", null, h)));
        const head = el("thead"); head.append(hr);
        const tb = el("tbody");
        const outcome = (name, o) => {
          const label = name === "in_app" ? t("in-app") : t("e-mail");
          if (!o) return label;
          if (o.outcome === "deferred" && o.deferred_until) return t("%(channel)s: after quiet hours (%(when)s)", { channel: label, when: fmt(o.deferred_until, this.tz) });
          if (o.outcome === "held" && o.deferred_until) return t("%(channel)s: held until %(when)s", { channel: label, when: fmt(o.deferred_until, this.tz) });
          return o.outcome === "send" ? label : `${label}: ${OUTCOMES[o.outcome] || o.outcome}`;
        };
        for (const it of items.slice(0, 100)) {
          const who = it.recipients && it.recipients.length ? it.recipients : [null];
          for (const r of who) {
            const tr = el("tr");
            tr.append(el("td", it.when ? null : "text-nowrap", it.when || (it.at ? fmt(it.at, this.tz) : (it.note || t("on the next matching change")))),
              el("td", null, `#${it.sag_id} ${it.case_title || ""}`), el("td", null, it.title || ""),
              el("td", null, r ? (r.name || r.email || "") : t("nobody (no recipient resolves)")),
              el("td", null, r ? Object.entries(r.channels || {}).map(([k, v]) => outcome(k, v)).join(", ") : ""));
            tb.append(tr);
          }
        }
        tbl.append(head, tb);
        const scroll = el("div", "table-responsive");
        scroll.append(tbl);
        wrap.append(scroll);
        if (items.length > 100 || out.truncated) wrap.append(el("div", "small text-body-secondary", t("More cases match than are listed.")));
      }
      (out.notes || []).forEach((n) => wrap.append(el("div", "small text-body-secondary", n)));
      this.preview.replaceChildren(wrap);
    }

    async loadHistory() {
      const res = await fetch(`/sag/${this.caseId}/reminders/history.json`, { headers: { Accept: "application/json" } });
      const rows = res.ok ? await json(res) : [];
      if (!Array.isArray(rows) || !rows.length) {
        this.history.replaceChildren(el("p", "text-body-secondary small mb-0", t("No reminders sent for this case yet.")));
        return;
      }
      const tbl = el("table", "table table-sm align-middle mb-0 small reminder-history");
      const hr = el("tr");
      [t("When"), t("Reminder"), t("To"), t("Channel"), t("Status"), t("Then")].forEach((h) => hr.append(el("th", null, h)));
      const head = el("thead"); head.append(hr);
      const tb = el("tbody");
      for (const r of rows) {
        const tr = el("tr");
        const then = [];
        if (r.seen_at) then.push(t("seen"));
        if (r.clicked_at) then.push(t("opened"));
        if (r.snoozed_until) then.push(t("snoozed until %(when)s", { when: fmt(r.snoozed_until, this.tz) }));
        if (r.acknowledged_at) then.push(t("acknowledged"));
        if (r.dismissed_at) then.push(t("dismissed"));
        const status = HISTORY_STATUSES[r.status] || r.status;
        const st = el("td", null, status);
        if (r.error) st.title = r.error;
        tr.append(el("td", "text-nowrap", fmt(r.created_at, this.tz)), el("td", null, r.title),
          el("td", null, r.recipient_name || ""), el("td", null, this.channelName(r.channel)), st,
          el("td", null, then.join(", ")));
        tb.append(tr);
      }
      tbl.append(head, tb);
      const wrap = el("div", "table-responsive");
      wrap.append(tbl);
      this.history.replaceChildren(wrap);
    }
  }

  function init() {
    document.querySelectorAll("[data-rule-editor]").forEach((root) => {
      const ed = new Editor(root);
      root.ruleEditor = ed;
      ed.start().catch(() => hub.alert(t("Could not load the reminder rules.")));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
