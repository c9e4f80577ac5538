"""The other users' open pages of bench/toast_latency.py, in a process of their own.

Holds one Server-Sent-Events stream per token on raw asyncio sockets (an HTTP/1.1 request
written by hand, the answer read and thrown away), so that what the streams cost is paid by
the server, not by the measuring client: in the measuring process, 1,000 `httpx` streams
parsing their heart-beats took the CPU the measured stream needed.

    python bench/_sse_load.py BASE_URL < tokens (one a line, then an empty line)

Prints "ready N" once every stream has its `hello` event, then holds them until its stdin
closes (or a line arrives) and exits.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

STREAM_PATH = "/api/v1/notifications/stream"
# Streams opened at once; each waits for its `hello` before the next batch starts.
CONNECT_BATCH = 50
HELLO_TIMEOUT_S = 120.0
READ_CHUNK = 65536


async def open_stream(host: str, port: int, token: str) -> asyncio.Task:
    """Open one stream, wait for its `hello`, and return the task that keeps reading it."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    seen = b""
    while b"event: hello" not in seen:
        chunk = await reader.read(READ_CHUNK)
        if not chunk:
            raise RuntimeError(f"stream closed before hello: {seen[:200]!r}")
        seen += chunk
    if not seen.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"stream refused: {seen[:200]!r}")

    async def drain() -> None:
        try:
            while await reader.read(READ_CHUNK):
                pass
        finally:
            writer.close()

    return asyncio.create_task(drain())


async def main(base: str, tokens: list[str]) -> None:
    url = urlsplit(base)
    tasks: list[asyncio.Task] = []
    for start in range(0, len(tokens), CONNECT_BATCH):
        batch = tokens[start:start + CONNECT_BATCH]
        tasks += await asyncio.wait_for(
            asyncio.gather(*(open_stream(url.hostname, url.port, t) for t in batch)), HELLO_TIMEOUT_S)
    print(f"ready {len(tasks)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    lines = []
    for line in sys.stdin:
        if not line.strip():
            break
        lines.append(line.strip())
    asyncio.run(main(sys.argv[1], lines))
