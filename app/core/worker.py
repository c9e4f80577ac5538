"""The worker: runs the modules' background jobs, each in its own thread.

A job is a function `run(stop: threading.Event) -> None` declared in module.json
(`"jobs": [{"name": "sync", "function": "backend.worker:run"}]`). It loops until
`stop` is set; the worker sets it on SIGTERM/SIGINT, or when an admin disables the
module, and waits for the jobs to return.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading

from app.core import backup_schedule, host_context
from app.core.modules import current_host
from app.core.modules.host import Host

log = logging.getLogger("app.core.worker")
JOIN_TIMEOUT_S = 30.0
# Net allocations of tracked objects between two young collections (Python's default: 700).
YOUNG_COLLECTION_OBJECTS = 10_000


def settle() -> None:
    """Ready this process for its jobs, once the modules are loaded: what is loaded by now lives
    as long as the process, so it is frozen (left out of the collector's full passes, which
    otherwise walk it all and stall the job being run); and young collections come due less
    often. A reminder batch makes tens of thousands of short-lived objects that hold no cycles
    (rows, e-mail pieces): at 700 the collector ran ~80 young passes per 5,000 events and found
    nothing to free (~2 µs per event, docs/reminders.md, "Eleventh round"); at 10,000 a batch's
    objects are freed before one comes due."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_OBJECTS, *gc.get_threshold()[1:])


class Runner:
    """Runs the jobs of the enabled modules of `host`; follows live enable/disable (its LISTEN)."""

    def __init__(self, host: Host | None = None) -> None:
        self.host = host or current_host()
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        # module -> (its own stop event, its job threads): disabling a module stops only its jobs.
        self._modules: dict[str, tuple[threading.Event, list[threading.Thread]]] = {}
        self._lock = threading.Lock()
        self._listening = False

    def start(self) -> Runner:
        host = self.host
        self._sync(host.jobs())
        host.subscribers.append(lambda changed: self._sync(changed.jobs()))
        host.start_listener()
        self._listening = True
        # Scheduled backups (BACKUP_SCHEDULE) are a core job: one backup per slot across all workers.

        if (thread := backup_schedule.start(self.stop_event)) is not None:
            self.threads.append(thread)
        log.info("worker started %d job(s)", len(self.threads))
        return self

    def _sync(self, jobs) -> None:
        """Start the jobs of newly enabled modules, stop those of disabled ones."""
        if self.stop_event.is_set():
            return
        wanted: dict[str, list] = {}
        for module, name, func in jobs:
            wanted.setdefault(module, []).append((name, func))
        with self._lock:
            for module in [m for m in self._modules if m not in wanted]:
                event, threads = self._modules.pop(module)
                event.set()
                log.info("stopping the jobs of module %s (disabled)", module)
            for module, module_jobs in wanted.items():
                if module in self._modules:
                    continue
                event = threading.Event()
                threads = []
                for name, func in module_jobs:
                    t = threading.Thread(target=self._run, args=(module, name, func, event),
                                         name=f"job-{module}-{name}", daemon=True)
                    t.start()
                    threads.append(t)
                    self.threads.append(t)
                self._modules[module] = (event, threads)

    def _run(self, module: str, name: str, func, module_stop: threading.Event) -> None:
        logger = logging.getLogger(f"app.modules.{module}")
        while not self.stop_event.is_set() and not module_stop.is_set():
            try:
                # The job's writes count as the module's (READ_ONLY / DRY_RUN apply), and
                # current_host() in the job is the worker's host.
                with self.host.acting(module), host_context.use_host(self.host):
                    func(module_stop)
                return
            except Exception:  # noqa: BLE001 - a crashing job restarts after a pause
                logger.exception("job %s crashed; restarting in 5 s", name)
                module_stop.wait(5)

    def stop(self) -> None:
        self.stop_event.set()
        with self._lock:
            for event, _threads in self._modules.values():
                event.set()
        for t in self.threads:
            t.join(JOIN_TIMEOUT_S)
        if self._listening:
            self.host.stop_listener()
            self._listening = False


def start_in_thread(host: Host | None = None) -> Runner:
    """Run the jobs of `host` (default: the current one) in threads of this process."""
    return Runner(host).start()


def run_forever(host: Host | None = None) -> None:
    runner = Runner(host)

    def _stop(signum, frame):
        log.info("worker stopping (signal %s)", signum)
        runner.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.start()
    runner.stop_event.wait()
    runner.stop()
