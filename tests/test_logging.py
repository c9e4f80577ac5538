"""Logging: one line per event, to the console and LOG_FILE (see also test_serve_end_to_end)."""

from __future__ import annotations

import logging

from app.core import logs
from app.core.config import get_settings


def test_a_traceback_stays_on_the_events_line():
    formatter = logs.OneLineFormatter(logs.FORMAT)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        record = logging.LogRecord("app.modules.webshop", logging.ERROR, __file__, 1, "sync failed", None,
                                   sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    assert "app.modules.webshop: sync failed" in line and "ValueError: bad | thing" in line


def test_events_reach_the_log_file_with_the_logger_name():
    logs.setup_logging()
    logging.getLogger("app.modules.webshop").warning("module webshop: one event\nwith two lines")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = get_settings().log_file.read_text().splitlines()
    assert any(line.endswith("WARNING app.modules.webshop: module webshop: one event | with two lines")
               for line in lines)
