// BMC Hub: the case timeline's note form (Ctrl+Enter posts, @-autocomplete of active users) and
// editing/deleting a note in place through the notes API. Texts go in as text; the only HTML
// inserted is the server's `body_html`, rendered by the same escaping filter as the page.
(function () {
  "use strict";
  const root = document.getElementById("caseTimeline");
  if (!root) return;
  const caseId = root.dataset.caseId;
  const API = `/api/v1/sag/${caseId}/notes`;
  const MENTIONS = "/api/v1/sag/mention-candidates";
  const DEBOUNCE_MS = 120;
  // The @-word being typed just before the caret: @prefix or @"Full Na
  const TYPING = /(?:^|[^\w@.])@("?)([^"@\n]{0,40})$/;

  async function problem(res) {
    try { const body = await res.json(); return body.message || body.detail || res.statusText; } catch (e) { return res.statusText; }
  }

  // --- Ctrl+Enter and the @-autocomplete on a textarea --------------------------------------
  function attachEditor(textarea, menu, onSubmit) {
    let items = [], active = -1, timer = null, token = null;

    function close() { menu.classList.remove("show"); menu.replaceChildren(); items = []; active = -1; token = null; }

    function label(u) { return u.full_name ? `${u.full_name} (@${u.username})` : `@${u.username}`; }

    function handleFor(u) {
      // The full name reads better in the note; the username when the name is missing, has a
      // quote, or is shared by another candidate (the mention must name one person).
      const shared = items.filter((x) => x.full_name && x.full_name === u.full_name).length > 1;
      return u.full_name && !u.full_name.includes('"') && !shared ? `@"${u.full_name}"` : `@${u.username}`;
    }

    function pick(i) {
      const u = items[i];
      if (!u || !token) return;
      const before = textarea.value.slice(0, token.start);
      const after = textarea.value.slice(textarea.selectionStart);
      const insert = handleFor(u) + " ";
      textarea.value = before + insert + after;
      const caret = before.length + insert.length;
      textarea.setSelectionRange(caret, caret);
      close();
      textarea.focus();
    }

    function highlight(i) {
      active = i;
      menu.querySelectorAll(".dropdown-item").forEach((a, n) => {
        a.classList.toggle("active", n === i);
        a.setAttribute("aria-selected", n === i ? "true" : "false");
      });
    }

    function show(users) {
      items = users;
      menu.replaceChildren();
      if (!users.length) { close(); return; }
      users.forEach((u, i) => {
        const li = document.createElement("li");
        const a = document.createElement("button");
        a.type = "button";
        a.className = "dropdown-item mention-option";
        a.setAttribute("role", "option");
        a.dataset.username = u.username;
        a.textContent = label(u);
        a.addEventListener("mousedown", (ev) => { ev.preventDefault(); pick(i); });
        li.append(a);
        menu.append(li);
      });
      menu.style.top = "100%";
      menu.style.left = "0";
      menu.classList.add("show");
      highlight(0);
    }

    function lookup() {
      const m = TYPING.exec(textarea.value.slice(0, textarea.selectionStart));
      if (!m) { close(); return; }
      token = { start: textarea.selectionStart - m[2].length - m[1].length - 1 };
      const q = m[2];
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const res = await fetch(`${MENTIONS}?q=${encodeURIComponent(q)}`, { credentials: "same-origin",
          headers: { "Accept": "application/json" } });
        if (res.ok && token) show(await res.json()); else close();
      }, DEBOUNCE_MS);
    }

    textarea.addEventListener("input", lookup);
    textarea.addEventListener("blur", () => setTimeout(close, 150));
    textarea.addEventListener("keydown", (ev) => {
      if (menu.classList.contains("show") && items.length) {
        if (ev.key === "ArrowDown") { ev.preventDefault(); highlight((active + 1) % items.length); return; }
        if (ev.key === "ArrowUp") { ev.preventDefault(); highlight((active - 1 + items.length) % items.length); return; }
        if ((ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey) || ev.key === "Tab") { ev.preventDefault(); pick(active); return; }
        if (ev.key === "Escape") { ev.preventDefault(); close(); return; }
      }
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        close();
        onSubmit();
      }
    });
  }

  const form = document.getElementById("noteForm");
  if (form) {
    attachEditor(form.querySelector("textarea"), document.getElementById("mentionMenu"), () => {
      if (form.reportValidity()) form.requestSubmit();
    });
  }

  // --- edit and delete in place -------------------------------------------------------------
  function entryOf(el) { return el.closest(".timeline-entry"); }

  function startEdit(button) {
    const entry = entryOf(button);
    const bodyEl = entry.querySelector(".note-body");
    const actions = entry.querySelector(".note-actions");
    const noteId = bodyEl.dataset.noteId;
    if (entry.querySelector("form")) return;
    const editForm = document.createElement("form");
    editForm.className = "mt-1 position-relative note-edit-form";
    const area = document.createElement("textarea");
    area.className = "form-control";
    area.rows = 3;
    area.maxLength = 20000;
    area.required = true;
    area.setAttribute("aria-label", hub.t("Note text"));
    const menu = document.createElement("ul");
    menu.className = "dropdown-menu";
    menu.setAttribute("role", "listbox");
    const row = document.createElement("div");
    row.className = "d-flex gap-2 mt-1";
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn-sm btn-primary";
    save.textContent = hub.t("Save");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-sm btn-outline-secondary";
    cancel.textContent = hub.t("Cancel");
    row.append(save, cancel);
    editForm.append(area, menu, row);
    bodyEl.hidden = true;
    actions.hidden = true;
    bodyEl.after(editForm);
    const finish = () => { editForm.remove(); bodyEl.hidden = false; actions.hidden = false; };
    cancel.addEventListener("click", finish);
    editForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      const res = await hub.api("PATCH", `${API}/${noteId}`, { body: area.value });
      save.disabled = false;
      if (!res.ok) { hub.alert(hub.t("The note was not saved: %(problem)s", {problem: await problem(res)})); return; }
      const note = await res.json();
      bodyEl.innerHTML = note.body_html;  // escaped by the server's note_html
      if (note.edited_at && !entry.querySelector(".note-edited")) {
        const mark = document.createElement("span");
        mark.className = "note-edited";
        mark.textContent = "· " + hub.t("edited");
        entry.querySelector("time").after(" ", mark);
      }
      finish();
    });
    attachEditor(area, menu, () => editForm.requestSubmit());
    // The note's current text, as stored (the page shows it rendered).
    fetch(API, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then((res) => res.json())
      .then((list) => {
        const note = list.find((n) => String(n.id) === String(noteId));
        area.value = note && note.body ? note.body : bodyEl.innerText;
        area.focus();
      });
  }

  async function remove(button) {
    const entry = entryOf(button);
    const noteId = entry.querySelector(".note-actions").dataset.noteId;
    if (!window.confirm(hub.t("Delete this note? The timeline will show that it was deleted."))) return;
    const res = await hub.api("DELETE", `${API}/${noteId}`);
    if (!res.ok) { hub.alert(hub.t("The note was not deleted: %(problem)s", {problem: await problem(res)})); return; }
    const gone = document.createElement("div");
    gone.className = "small fst-italic text-body-secondary mt-1 note-deleted";
    gone.textContent = hub.t("Note deleted by %(name)s just now", {name: root.dataset.meName});
    entry.querySelector(".note-body").replaceWith(gone);
    entry.querySelector(".note-actions").remove();
    const mark = entry.querySelector(".note-edited");
    if (mark) mark.remove();
  }

  root.addEventListener("click", (ev) => {
    const edit = ev.target.closest("[data-note-edit]");
    if (edit) { startEdit(edit); return; }
    const del = ev.target.closest("[data-note-delete]");
    if (del) remove(del);
  });
})();
