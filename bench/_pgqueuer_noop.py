"""The pgqueuer no-op baseline of bench/reminder_throughput.py: the job queue that users compare
the reminder engine with, doing nothing per job, on the same server in the same run.

`pgqueuer_noop_jobs_per_s(dsn, jobs, workers, batch, server_cpu, settle)` installs pgqueuer's schema
(once), queues `jobs` no-op jobs in one statement, starts `workers` processes (each a
QueueManager on its own asyncpg connection, `mode=drain`, `batch_size=batch`), releases them
together and returns jobs / seconds until all have drained the queue (each prints a line
then), jobs / seconds until all have exited, and the CPU seconds of the workers and of the
server. The workers are processes, as the reminder workers are, so both sides get
the machine's two cores the same way.

    python bench/_pgqueuer_noop.py DSN BATCH   (a worker: prints "ready", waits for a line, drains)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import release_workers

ENTRYPOINT = "noop"
JOB_PAYLOAD = b"{}"
# A worker that finds the queue empty waits this long for a NOTIFY before it re-polls and, in
# drain mode, exits; short, so the measured time ends with the last job, not a timeout.
DEQUEUE_TIMEOUT_S = 0.05


async def _connect(dsn: str):
    # asyncpg: pgqueuer's own driver and its fastest (its psycopg driver holds the connection
    # while it waits up to a second for a NOTIFY, which makes it several times slower).
    import asyncpg

    return await asyncpg.connect(dsn)


async def _install_and_enqueue(dsn: str, jobs: int) -> None:
    from pgqueuer.queries import Queries

    conn = await _connect(dsn)
    try:
        queries = Queries.from_asyncpg_connection(conn)
        if not await queries.schema_is_installed():
            await queries.install()
        await queries.clear_queue()
        await queries.clear_statistics_log()
        await queries.enqueue([ENTRYPOINT] * jobs, [JOB_PAYLOAD] * jobs, [0] * jobs)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _left(dsn: str) -> int:
    conn = await _connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM pgqueuer")
    finally:
        await conn.close()


async def _worker(dsn: str, batch: int) -> None:
    from datetime import timedelta

    from pgqueuer import types
    from pgqueuer.qm import QueueManager
    from pgqueuer.queries import Queries

    conn = await _connect(dsn)
    qm = QueueManager(Queries.from_asyncpg_connection(conn))

    @qm.entrypoint(ENTRYPOINT)
    async def noop(job) -> None:
        return None

    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    cpu = time.process_time()
    await qm.run(batch_size=batch, mode=types.QueueExecutionMode.drain,
                 dequeue_timeout=timedelta(seconds=DEQUEUE_TIMEOUT_S))
    # The queue is drained: the line marks the end of the work (the parent times it), then the
    # worker's CPU seconds for the queue.
    print(time.process_time() - cpu, flush=True)
    await conn.close()


def pgqueuer_noop_jobs_per_s(dsn: str, jobs: int, workers: int, batch: int,
                             server_cpu: Callable[[], float] = lambda: 0.0,
                             settle: Callable[[], None] = lambda: None) -> tuple[float, float, float, float]:
    """(jobs per second until all workers have drained the queue, jobs per second until all have
    exited, the workers' CPU seconds for them, the server's: `server_cpu()` once the workers are
    connected, just before they go, and again after `settle()` (until their backends are gone)
    once they have exited)."""
    asyncio.run(_install_and_enqueue(dsn, jobs))
    procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), dsn, str(batch)],
                              env=dict(os.environ), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(workers)]
    drained, to_exit, cpu, server_before = release_workers(procs, "pgqueuer worker", server_cpu)
    settle()
    server = server_cpu() - server_before
    left = asyncio.run(_left(dsn))
    if left:
        raise SystemExit(f"pgqueuer left {left} jobs in its queue")
    return jobs / drained, jobs / to_exit, cpu, server


if __name__ == "__main__":
    import uvloop  # as pgqueuer's own CLI runs its workers

    uvloop.run(_worker(sys.argv[1], int(sys.argv[2])))
