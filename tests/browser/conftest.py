"""Browser tests: Playwright for Python driving Debian's Chromium against a live test server.

The server (uvicorn in a thread, the test database, the reminder worker running beside it)
lives for one test module. No browser is downloaded: Playwright launches /usr/bin/chromium.
Screenshots of key pages go to `test-artifacts/browser/` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.live_server import LiveServer

CHROMIUM = os.environ.get("BMC_CHROMIUM", "/usr/bin/chromium")
# What Chromium needs on a container/CI machine without a user namespace or a GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# Playwright's default waits; generous because two cores are shared with other work.
DEFAULT_TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def server(app):
    s = LiveServer(app, with_worker=True).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not installed (/usr/bin/chromium); .ci/run installs it with apt-get")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package 'playwright' is not installed (pip install -e '.[dev]')")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


def shot(page, name: str) -> None:
    """Keep a screenshot of a key page as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Let toasts finish fading in (Bootstrap keeps them transparent while "showing").
    page.wait_for_function("!document.querySelector('.toast.showing')")
    page.wait_for_timeout(200)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, animations="disabled")


class Session:
    """A signed-in browser context for one user (its pages share cookies and localStorage)."""

    def __init__(self, browser, server, user) -> None:
        self.server = server
        self.user = user
        self.context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.dialogs: list[str] = []
        self.confirm = False  # answer to confirm() dialogs
        self.errors: list[str] = []
        page = self.new_page()
        page.goto("/login")
        page.fill("input[name=username]", user["username"])
        page.fill("input[name=password]", user["password"])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.close()

    def new_page(self, path: str | None = None):
        page = self.context.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        if path:
            page.goto(path)
        return page

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        if dialog.type == "confirm" and self.confirm:
            dialog.accept()
        else:
            dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session_for(browser, server):
    made: list[Session] = []

    def make(user) -> Session:
        s = Session(browser, server, user)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
