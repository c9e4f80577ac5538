"""The reminder worker job (filled in by the reminder engine)."""

import threading


def run(stop: threading.Event) -> None:
    stop.wait()
