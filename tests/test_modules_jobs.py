"""Background jobs declared in module.json run in the worker and follow enable/disable live."""

from __future__ import annotations

import importlib

from tests.modules_fixtures import set_env, wait_until, write_module

JOB = '''
import threading

from app.core import database

events = []


def run(stop: threading.Event) -> None:
    events.append(("start", database.current_module()))
    stop.wait()
    events.append(("stop", database.current_module()))
'''


def test_jobs_start_stop_with_their_module(tmp_path):
    from app.core import worker
    from app.core.modules import service
    from app.main import create_app

    name = write_module(tmp_path, "jobby", manifest={"jobs": [{"name": "tick", "function": "backend.worker:run"}]},
                        files={"backend/worker.py": JOB})
    old = set_env(MODULES_DIR=str(tmp_path))
    runner = None
    try:
        host = create_app().state.modules
        runner = worker.start_in_thread(host)
        events = importlib.import_module(f"app.modules.{name}.backend.worker").events
        # The job runs "as" its module, so the module's READ_ONLY / DRY_RUN apply to it.
        assert wait_until(lambda: events == [("start", name)])
        service.disable(host, name, None)
        assert wait_until(lambda: events[-1] == ("stop", name))
        service.enable(host, name, None)
        assert wait_until(lambda: events.count(("start", name)) == 2)
        runner.stop()
        runner = None
        assert events[-1] == ("stop", name)
    finally:
        if runner is not None:
            runner.stop()
        set_env(**old)


def test_host_lists_jobs_of_enabled_modules_only(tmp_path):
    from app.main import create_app

    on = write_module(tmp_path, "jobs_on", manifest={"jobs": [{"name": "a", "function": "backend.worker:run"}]},
                      files={"backend/worker.py": JOB})
    off = write_module(tmp_path, "jobs_off", manifest={"enabled": False,
                                                       "jobs": [{"name": "b", "function": "backend.worker:run"}]},
                       files={"backend/worker.py": JOB})
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        host = create_app().state.modules
        assert [(m, j) for m, j, _f in host.jobs()] == [(on, "a")]
        assert off not in [m for m, _j, _f in host.jobs()]
    finally:
        set_env(**old)
