"""Fixtures shared by the reminder tests."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from app.modules.sag.reminders.tests.reminders_helpers import Inbox, free_port, use_smtp


@pytest.fixture
def smtp_inbox():
    """An aiosmtpd server on loopback that the hub sends to for the test."""
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    use_smtp(controller.port)
    try:
        yield box
    finally:
        controller.stop()
        use_smtp(None)
