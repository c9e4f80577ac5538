"""Toast latency: from a case's status-change commit to the reminder event on a browser's stream.

Runs everything for real against a throwaway embedded PostgreSQL in a temporary directory
(never ./var): `bmc-hub serve` in a subprocess (app + its LISTEN connection + the in-process
reminder worker), one SSE client of the case's assignee, and a status-change rule. Each event
is one committed status change; the clock stops when the `reminder` event arrives on the
stream. 200 events idle, then 200 more while CLIENTS other users' SSE streams (default 200)
are connected to the same app process.

Each event is measured on its own: the next change is committed only once the worker has
finished everything the previous one caused (the case's watchers get "status changed" news
too), plus a 10 ms gap. The other users' streams are held by a separate process
(bench/_sse_load.py, raw sockets), so that their heart-beats are not parsed in the measuring
process, and the measured stream is the only one this process reads.

    .venv/bin/python bench/toast_latency.py [--clients 1000]

Prints one JSON line: p50_ms_idle, p99_ms_idle, p50_ms_loaded, p99_ms_loaded (target p99 <
200 ms; < 100 ms with 1,000 streams), `clients` (= other_clients) and `kb_per_stream`: how much
the server process's resident memory grew per open stream (RSS with the streams open minus
RSS before they opened, divided by their number; target < 50 KB), and p99_ms_push_idle /
p99_ms_push_loaded: the app process's own share, from the log row's notification (this
process LISTENs on the channel too) to the event on the stream; the rest of the commit ->
event time is the reminder worker's, before the notification is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from _common import ROOT, free_port, percentile, stop_process, throwaway_database

EVENTS = 200
OTHER_CLIENTS = 200
# Sockets per stream on each side, plus what the process needs besides.
FDS_PER_STREAM = 2
FDS_SPARE = 512
EVENT_TIMEOUT_S = 10.0
GAP_S = 0.01  # between events, once the worker has settled, so each one is measured on its own
SETTLE_POLL_S = 0.002
SETTLE_TIMEOUT_S = 60.0  # a badly overloaded machine can stall the worker for many seconds
# Something due for the worker: a firing in the inbox, or a queued event due now or being processed.
WORKER_BUSY = ("SELECT EXISTS (SELECT 1 FROM sag_reminder_inbox) OR EXISTS (SELECT 1 FROM sag_reminder_queue "
               "WHERE status = 'processing' OR (status = 'pending' AND scheduled_for <= now()))")
LOAD_READY_TIMEOUT_S = 300
NOTIFY_CHANNEL = "bmc_user_notifications"  # app.core.realtime.CHANNEL
# `bmc-hub serve` takes well over a minute to come up on a busy shared machine.
STARTUP_TIMEOUT_S = 180


def raise_fd_limit(streams: int) -> None:
    """Let this process and the server it starts (it inherits the limit) hold every stream's socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = streams * FDS_PER_STREAM + FDS_SPARE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def rss_kb(pid: int) -> int:
    """Resident memory of a process, KB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


def prepare(clients: int) -> dict:
    """Migrate, then create the users, tokens, case and rule the run needs."""
    from app.core import auth, database, migrations
    from app.main import create_app

    migrations.migrate_core()
    create_app()

    def user(name: str) -> int:
        return database.execute_query(
            "INSERT INTO users (username, email, full_name, role) VALUES (%s, %s, %s, 'user') RETURNING id",
            (name, f"{name}@bench.test", name))[0]["id"]

    tech = user("bench_tech")
    boss = user("bench_boss")
    # The hourly cap would hold back most of 400 reminders; the bench measures delivery, not the cap.
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = 1000 WHERE user_id = %s",
                            (tech,))
    case_id = database.execute_query(
        "INSERT INTO sag_sager (title, assigned_to, created_by) VALUES ('Latency bench', %s, %s) RETURNING id",
        (tech, boss))[0]["id"]
    from app.modules.sag.reminders import store as reminders_store

    reminders_store.create_rule({
        "name": "bench", "sag_id": case_id, "trigger_type": "status_change",
        "trigger_config": {"from": "any", "to": "any"}, "recipients": {"assignee": True},
        "channels": ["in_app"], "title_template": "Status {{ case.status }}", "message_template": "",
        "priority": "normal", "active": True, "repeat_every_hours": None, "escalate_after": None,
        "escalate_role": None}, boss)
    others = [auth.create_api_token(user(f"bench_other_{i}"), "bench") for i in range(clients)]
    token = auth.create_api_token(tech, "bench")
    database.close_pool()
    return {"case_id": case_id, "token": token, "others": others, "user_id": tech}


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING",
           "LOG_FILE": str(data_dir / "app.log"), "BMC_HUB_ADMIN_PASSWORD": "bench-admin-password"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("bmc-hub serve exited")
        time.sleep(0.2)
    raise RuntimeError("bmc-hub serve did not come up")


async def read_stream(client: httpx.AsyncClient, url: str, token: str, on_event, opened: asyncio.Event):
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with client.stream("GET", url, headers=headers) as resp:
        resp.raise_for_status()
        event = None
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event:
                if event == "hello":
                    opened.set()
                elif on_event is not None:
                    on_event(event, line[5:].strip())
            elif line == "":
                event = None


async def open_load(base: str, tokens: list[str]) -> asyncio.subprocess.Process:
    """The other users' streams, held by a process of their own (bench/_sse_load.py); returns once all are open."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("_sse_load.py")), base,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    proc.stdin.write(("\n".join(tokens) + "\n\n").encode())
    await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), LOAD_READY_TIMEOUT_S)
    if not line.startswith(b"ready"):
        raise RuntimeError("the load streams did not open")
    return proc


async def close_load(proc: asyncio.subprocess.Process) -> None:
    proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def settle(conn: psycopg.AsyncConnection) -> None:
    """Wait until the worker has finished everything due (the watchers' news of the last change too)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        cur = await conn.execute(WORKER_BUSY)
        if not (await cur.fetchone())[0]:
            return
        await asyncio.sleep(SETTLE_POLL_S)
    cur = await conn.execute("SELECT kind, status, count(*) FROM sag_reminder_queue "
                             "WHERE status IN ('pending', 'processing') GROUP BY 1, 2")
    raise TimeoutError(f"the reminder worker did not settle: {await cur.fetchall()}")


async def watch_notifies(url: str, user_id: int, seen: dict[int, float], listening: asyncio.Event) -> None:
    """When each of the user's `reminder` notifications was sent (this process LISTENs too), by log id."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        listening.set()
        async for notify in conn.notifies():
            payload = json.loads(notify.payload)
            if payload.get("user_id") == user_id and payload.get("event") == "reminder":
                seen[payload["log_id"]] = time.perf_counter()


async def measure(base: str, url: str, setup: dict, n: int, others: list[str],
                  server_pid: int | None = None) -> tuple[list[float], list[float], float | None]:
    """Latencies of `n` events (commit -> stream, and the notification -> stream part of it), and
    the server's RSS growth per stream (KB) once `others` are open."""
    stream_url = f"{base}/api/v1/notifications/stream"
    load = None
    kb_per_stream = None
    if others:
        rss_before = rss_kb(server_pid)
        load = await open_load(base, others)
        kb_per_stream = (rss_kb(server_pid) - rss_before) / len(others)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=None)) as client:
        arrived: asyncio.Queue = asyncio.Queue()

        def on_event(kind: str, data: str) -> None:
            if kind == "reminder":
                arrived.put_nowait((time.perf_counter(), json.loads(data)))

        notified: dict[int, float] = {}
        listening = asyncio.Event()
        opened = asyncio.Event()
        tasks = [asyncio.create_task(watch_notifies(url, setup["user_id"], notified, listening)),
                 asyncio.create_task(read_stream(client, stream_url, setup["token"], on_event, opened))]
        await asyncio.wait_for(asyncio.gather(listening.wait(), opened.wait()), 30)
        while not arrived.empty():
            arrived.get_nowait()
        latencies, pushes = [], []
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            statuses = ["in_progress", "waiting_customer"]
            for i in range(n):
                await settle(conn)
                await asyncio.sleep(GAP_S)
                await conn.execute("UPDATE sag_sager SET status = %s WHERE id = %s",
                                   (statuses[i % 2], setup["case_id"]))
                t0 = time.perf_counter()  # the UPDATE has committed (autocommit) when execute returns
                t1, data = await asyncio.wait_for(arrived.get(), EVENT_TIMEOUT_S)
                latencies.append((t1 - t0) * 1000)
                if data["id"] in notified:
                    pushes.append((t1 - notified[data["id"]]) * 1000)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if load is not None:
        await close_load(load)
    return latencies, pushes, kb_per_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=OTHER_CLIENTS,
                        help="other users' streams open on the server during the loaded phase")
    args = parser.parse_args()
    raise_fd_limit(args.clients)
    proc = None
    with throwaway_database("bmc-bench-") as tmp:
        url = os.environ["DATABASE_URL"]
        try:
            setup = prepare(args.clients)
            proc, base = start_server(url, tmp / "server")
            idle, push_idle, _ = asyncio.run(measure(base, url, setup, EVENTS, []))
            loaded, push_loaded, kb_per_stream = asyncio.run(
                measure(base, url, setup, EVENTS, setup["others"], proc.pid))
        finally:
            if proc is not None:
                stop_process(proc, 20)
    print(json.dumps({
        "events": EVENTS, "other_clients": args.clients, "clients": args.clients,
        "kb_per_stream": None if kb_per_stream is None else round(kb_per_stream, 1),
        "p50_ms_idle": round(statistics.median(idle), 2), "p99_ms_idle": round(percentile(idle, 99), 2),
        "p50_ms_loaded": round(statistics.median(loaded), 2), "p99_ms_loaded": round(percentile(loaded, 99), 2),
        "p99_ms_push_idle": round(percentile(push_idle, 99), 2),
        "p99_ms_push_loaded": round(percentile(push_loaded, 99), 2),
    }))


if __name__ == "__main__":
    main()
