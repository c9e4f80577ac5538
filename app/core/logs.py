"""Logging: one line per event to the console and to LOG_FILE."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from app.core.config import get_settings

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5

_configured = False


class OneLineFormatter(logging.Formatter):
    """One line per event: a traceback or a multi-line message is folded onto its line."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " | ")


def setup_logging(force: bool = False) -> None:
    global _configured
    if _configured and not force:
        return
    settings = get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_bmc_hub", False):
            root.removeHandler(handler)
            handler.close()
    formatter = OneLineFormatter(FORMAT)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    console._bmc_hub = True  # type: ignore[attr-defined]
    root.addHandler(console)
    try:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            settings.log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        file_handler.setFormatter(formatter)
        file_handler._bmc_hub = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    except OSError as exc:
        logging.getLogger("app").warning("cannot write log file %s: %s", settings.log_file, exc)
    root.setLevel(settings.log_level.upper())
    for noisy in ("psycopg.pool", "httpx", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True
