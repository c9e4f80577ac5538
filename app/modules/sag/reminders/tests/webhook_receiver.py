"""A real HTTP receiver on 127.0.0.1 for destination tests (http.server in a thread; no tests here).

    with Receiver(statuses=[500, 200]) as rx:      # answers 500, then 200 (then 200 for ever)
        url = f"json://127.0.0.1:{rx.port}/hook"
        ...
        rx.requests                                 # [(method, path, headers, body bytes), ...]

`hang=True` holds every request until the receiver is closed (a destination that never answers).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

HANG_LIMIT_S = 30.0  # a hanging request is let go at the latest after this (or when the receiver closes)


class Receiver:
    def __init__(self, statuses: list[int] | None = None, hang: bool = False):
        self.statuses = list(statuses or [200])
        self.hang = hang
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.command, self.path, dict(self.headers), body))
                if receiver.hang:
                    receiver.release.wait(HANG_LIMIT_S)
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def json_bodies(self) -> list[dict]:
        return [json.loads(body) for _m, _p, _h, body in self.requests]

    def form_bodies(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in parse_qs(body.decode()).items()} for _m, _p, _h, body in self.requests]
