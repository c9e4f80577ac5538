"""The worker: runs the modules' background jobs, each in its own thread.

A job is a function `run(stop: threading.Event) -> None` declared in module.json
(`"jobs": [{"name": "reminders", "function": "backend.worker:run"}]`). It loops until
`stop` is set; the worker sets it on SIGTERM/SIGINT and waits for the jobs to return.
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger("app.core.worker")
JOIN_TIMEOUT_S = 30.0


class Runner:
    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Runner:
        from app.core.modules import loader

        for module, name, func in loader.jobs():
            t = threading.Thread(target=self._run, args=(module, name, func), name=f"job-{module}-{name}",
                                 daemon=True)
            t.start()
            self.threads.append(t)
        log.info("worker started %d job(s)", len(self.threads))
        return self

    def _run(self, module: str, name: str, func) -> None:
        logger = logging.getLogger(f"app.modules.{module}")
        while not self.stop_event.is_set():
            try:
                func(self.stop_event)
                return
            except Exception:  # noqa: BLE001 - a crashing job restarts after a pause
                logger.exception("job %s crashed; restarting in 5 s", name)
                self.stop_event.wait(5)

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(JOIN_TIMEOUT_S)


def start_in_thread() -> Runner:
    return Runner().start()


def run_forever() -> None:
    runner = Runner()

    def _stop(signum, frame):
        log.info("worker stopping (signal %s)", signum)
        runner.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.start()
    runner.stop_event.wait()
    runner.stop()
