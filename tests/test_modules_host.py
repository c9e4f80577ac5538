"""One module host per app (`app.state.modules`); `current_host()` finds the right one from a
request, a job, or a script (the process's headless host)."""

from __future__ import annotations

import importlib
import threading

from fastapi.testclient import TestClient

from tests.modules_fixtures import set_env, wait_until, write_module

WHO = '''
from fastapi import APIRouter

from app.core.modules import current_host

router = APIRouter()
seen = []


@router.get("/who")
def read_who():
    return {"host": id(current_host())}


def run(stop):
    seen.append(id(current_host()))
    stop.wait()
'''


def test_each_app_has_its_own_host_and_requests_see_it(tmp_path):
    from app.main import create_app

    name = write_module(tmp_path, "who", router=WHO)
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        first, second = create_app(), create_app()
    finally:
        set_env(**old)
    assert first.state.modules is not second.state.modules
    for app in (first, second):
        with TestClient(app) as client:
            assert client.get(f"/api/v1/{name}/who").json() == {"host": id(app.state.modules)}


def test_a_job_sees_the_workers_host(tmp_path):
    from app.core import worker
    from app.main import create_app

    name = write_module(tmp_path, "whojob", router=WHO,
                        manifest={"jobs": [{"name": "who", "function": "backend.router:run"}]})
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        host = create_app().state.modules
        runner = worker.start_in_thread(host)
        try:
            seen = importlib.import_module(f"app.modules.{name}.backend.router").seen
            assert wait_until(lambda: seen == [id(host)])
        finally:
            runner.stop()
    finally:
        set_env(**old)


def test_outside_any_app_the_headless_host_of_the_modules_dir(tmp_path):
    from app.core.modules import current_host

    name = write_module(tmp_path, "lonely")
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        found: list = []
        t = threading.Thread(target=lambda: found.append(current_host()))
        t.start()
        t.join()
        host = found[0]
        assert host.app is None and host.directory == tmp_path.resolve()
        assert host.records[name].state == "enabled"
        assert current_host() is host  # one per process and modules folder
    finally:
        set_env(**old)
