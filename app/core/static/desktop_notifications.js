// BMC Hub: the "Desktop notifications" card of the preferences page.
//
// Opt-in per browser: the button asks the browser for permission (Notification.requestPermission)
// and remembers the choice in localStorage; notifications.js reads the same key and, while the
// hub's tab is hidden, raises an operating-system notification for each new reminder.
(function () {
  "use strict";
  const KEY = "bmc.notifications.desktop";
  const status = document.getElementById("desktopStatus");
  const enable = document.getElementById("desktopEnable");
  const disable = document.getElementById("desktopDisable");
  if (!status || !enable || !disable) return;

  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function store(value) {
    try { localStorage.setItem(KEY, value); } catch (e) { /* private mode: nothing to remember */ }
  }

  function render() {
    let state;
    let text;
    if (!("Notification" in window)) {
      state = "unsupported";
      text = hub.t("This browser cannot show desktop notifications.");
    } else if (Notification.permission === "denied") {
      state = "blocked";
      text = hub.t("Blocked: allow notifications for this site in the browser's settings, then come back here.");
    } else if (Notification.permission === "granted" && stored() === "on") {
      state = "on";
      text = hub.t("On in this browser.");
    } else {
      state = "off";
      text = hub.t("Off in this browser.");
    }
    status.dataset.state = state;
    status.textContent = text;
    enable.hidden = state !== "off";
    disable.hidden = state !== "on";
  }

  enable.addEventListener("click", async () => {
    enable.disabled = true;
    let permission = Notification.permission;
    try {
      if (permission !== "granted") permission = await Notification.requestPermission();
    } catch (e) {
      permission = "default";
    }
    store(permission === "granted" ? "on" : "off");
    enable.disabled = false;
    render();
  });
  disable.addEventListener("click", () => { store("off"); render(); });
  render();
})();
